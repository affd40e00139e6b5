"""AFM, FFM and FwFM: their forward passes against the papers' equations on tiny data."""

from __future__ import annotations

import torch

from lit_ctr.models import AFM, FFM, FM, FwFM

FIELD_DIMS = [3, 4, 5]
IDS = torch.tensor([[0, 3, 7], [2, 6, 11]])  # global ids, one per field
NUMERIC = torch.tensor([[0.5], [2.0]])


def test_ffm_keeps_one_table_of_a_k_vector_per_field_for_every_id():
    model = FFM(FIELD_DIMS, num_numeric=1, embed_dim=2)
    assert model.embedding.table.weight.shape == (12, 4 * 2)  # 4 fields (3 categorical + 1 numeric) × k


def test_ffm_pairs_each_features_vector_for_the_other_field():
    model = FFM(FIELD_DIMS, num_numeric=1, embed_dim=2)
    torch.nn.init.normal_(model.embedding.table.weight)
    torch.nn.init.normal_(model.embedding.numeric_vectors)
    table, numeric_vectors = model.embedding.table.weight, model.embedding.numeric_vectors
    # v[b, i, j]: field i's vector for field j, [2, 4, 4, 2]
    v = torch.cat([table[IDS], NUMERIC.unsqueeze(-1) * numeric_vectors], dim=1).view(2, 4, 4, 2)
    pairs = sum((v[:, i, j] * v[:, j, i]).sum(-1) for i in range(4) for j in range(i + 1, 4))
    torch.testing.assert_close(model(IDS, NUMERIC), model.linear(IDS, NUMERIC) + pairs)


def test_fwfm_with_every_field_pair_weight_one_is_an_fm():
    fwfm = FwFM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    fm = FM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    fm.linear.load_state_dict(fwfm.linear.state_dict())
    fm.embedding.load_state_dict(fwfm.embedding.state_dict())
    torch.testing.assert_close(fwfm(IDS, NUMERIC), fm(IDS, NUMERIC))


def test_fwfm_weights_each_pairs_inner_product_by_its_own_r_of_one_plus_its_offset():
    model = FwFM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    assert model.field_weight_offsets.weight.shape == (1, 6)  # 4 fields, 6 pairs
    torch.nn.init.normal_(model.field_weight_offsets.weight)
    v = model.embedding(IDS, NUMERIC)
    r = 1 + model.field_weight_offsets.weight[0]
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    expected = model.linear(IDS, NUMERIC) + sum(r[p] * (v[:, i] * v[:, j]).sum(-1) for p, (i, j) in enumerate(pairs))
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_fwfm_loads_a_checkpoint_that_holds_r_itself_as_the_same_model():
    model = FwFM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    torch.nn.init.normal_(model.field_weight_offsets.weight)
    state = model.state_dict()
    offsets = state.pop("field_weight_offsets.weight")
    state["field_weights.weight"] = 1 + offsets  # the key and value saved before r = 1 + δ
    loaded = FwFM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    loaded.load_state_dict(state)
    torch.testing.assert_close(loaded.field_weight_offsets.weight, offsets)
    torch.testing.assert_close(loaded(IDS, NUMERIC), model(IDS, NUMERIC))


def test_fwfm_weight_decay_pulls_its_pair_weights_towards_an_fm():
    model = FwFM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    with torch.no_grad():
        model.field_weight_offsets.weight.fill_(0.5)
    optimizer = torch.optim.Adam([model.field_weight_offsets.weight], lr=0.1, weight_decay=1.0)
    for _ in range(50):  # no data gradient: decay alone
        optimizer.zero_grad()
        (0 * model(IDS, NUMERIC).sum()).backward()
        optimizer.step()
    r = 1 + model.field_weight_offsets.weight
    assert r.sub(1).abs().max() < 0.1  # near the FM's r = 1, not near 0


def test_afm_projects_the_attention_pooled_pairwise_products():
    model = AFM(FIELD_DIMS, num_numeric=1, embed_dim=3, attention_dim=4).eval()
    v = model.embedding(IDS, NUMERIC)
    pooled = model.attention(model.pairs(v))
    expected = model.linear(IDS, NUMERIC) + pooled @ model.projection.weight[0]
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_afm_attention_l2_adds_the_attention_weights_squared_norm_to_the_penalty():
    plain = AFM(FIELD_DIMS, embed_dim=3, embedding_l2=0.1)
    penalised = AFM(FIELD_DIMS, embed_dim=3, embedding_l2=0.1, attention_l2=0.5)
    penalised.load_state_dict(plain.state_dict())
    extra = 0.5 * penalised.attention.attention[0].weight.pow(2).sum()
    torch.testing.assert_close(penalised.regularization(IDS), plain.regularization(IDS) + extra)


def test_afm_with_uniform_attention_starts_as_an_fm():
    afm = AFM(FIELD_DIMS, num_numeric=1, embed_dim=3).eval()
    torch.nn.init.zeros_(afm.attention.attention[2].weight)  # every pair scores alike
    fm = FM(FIELD_DIMS, num_numeric=1, embed_dim=3)
    fm.linear.load_state_dict(afm.linear.state_dict())
    fm.embedding.load_state_dict(afm.embedding.state_dict())
    torch.testing.assert_close(afm(IDS, NUMERIC), fm(IDS, NUMERIC))
