"""``lit-ctr serve``: a real HTTP server on 127.0.0.1, started and stopped by each test module.

The server is ``python -m lit_ctr serve`` in its own process group; every test talks to
it with httpx, and the fixture stops it (SIGINT, then SIGKILL after 30 s) however the
tests end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from lit_ctr.cli import main
from synthetic_config import synthetic_data_config

from lit_ctr.predictor import load_predictor
from lit_ctr.serving import RequestError, check_rows

httpx = pytest.importorskip("httpx")
pytest.importorskip("litserve")

FIELDS = ["I1", "I2"] + [f"C{i}" for i in range(1, 7)]
STARTUP_SECONDS = 180


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, synthetic_files) -> dict[str, Path]:
    """A small trained DeepFM, exported as ONNX and TorchScript."""
    root = tmp_path_factory.mktemp("serving")
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 1,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(root / "runs"), "name": "serve", "version": 0},
            },
        },
        "model": {"class_path": "DeepFM", "init_args": {"embed_dim": 4, "hidden_units": [8]}},
        "data": synthetic_data_config(synthetic_files, root / "cache"),
    }
    (root / "deepfm.yaml").write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(root / "deepfm.yaml")])
    checkpoint = root / "runs" / "serve" / "version_0" / "checkpoints" / "best.ckpt"
    out = {"checkpoint": checkpoint}
    for kind, suffix in (("onnx", ".onnx"), ("torchscript", ".pt")):
        out[kind] = root / f"model{suffix}"
        main(["export", "--ckpt_path", str(checkpoint), "--format", kind, "--output", str(out[kind])])
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``lit-ctr serve`` in a child process group, with its base URL."""

    def __init__(self, artifact: Path, cwd: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "lit_ctr", "serve", "--artifact", str(artifact), "--port", str(self.port)]
        self.log = (cwd / f"server-{self.port}.log").open("w+")
        self.process = subprocess.Popen(
            [*command, *args], cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}):\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the server was not ready in {STARTUP_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # LitServe shuts its workers down on Ctrl+C
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module", params=["onnx", "torchscript"])
def server(request, artifacts, tmp_path_factory):
    """The server for one artifact, batching up to 8 requests."""
    server = Server(artifacts[request.param], tmp_path_factory.mktemp("cwd"), "--max_batch_size", "8")
    try:
        server.wait_ready()
        server.kind = request.param
        yield server
    finally:
        server.stop()


def rows(n: int = 5) -> list[dict]:
    rng = np.random.default_rng(0)
    return [
        {
            "I1": float(rng.integers(0, 50)),
            "I2": str(rng.integers(0, 9)),
            **{f"C{i}": f"v{rng.integers(0, 9)}" for i in range(1, 7)},
        }
        for _ in range(n)
    ]


def post(server: Server, body, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/predict", json=body, timeout=60, **kwargs)


def test_health_answers_ok_once_the_model_is_loaded(server):
    response = httpx.get(f"{server.url}/health", timeout=10)
    assert (response.status_code, response.text) == (200, "ok")


def test_rows_get_the_probabilities_the_predictor_gives_in_order(server, artifacts):
    sent = rows(7)
    response = post(server, {"rows": sent})
    assert response.status_code == 200, response.text
    expected = load_predictor(artifacts[server.kind]).predict(sent)
    assert response.json()["probabilities"] == pytest.approx(expected.tolist(), abs=1e-6)


def test_unseen_and_missing_values_are_scored(server):
    odd = [{"C1": "never-seen", "I1": None}, {}, {"I2": "", "C3": 123456, "label": 1}]
    probabilities = post(server, {"rows": odd}).json()["probabilities"]
    assert len(probabilities) == 3 and all(0 < p < 1 for p in probabilities)


def test_an_empty_list_of_rows_gets_an_empty_list(server):
    assert post(server, {"rows": []}).json() == {"probabilities": []}


def test_concurrent_requests_each_get_their_own_rows_probabilities(server, artifacts):
    import concurrent.futures

    requests = [rows(1 + i) for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda r: post(server, {"rows": r}).json()["probabilities"], requests))
    predictor = load_predictor(artifacts[server.kind])
    for sent, got in zip(requests, answers):
        assert got == pytest.approx(predictor.predict(sent).tolist(), abs=1e-6)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"rows": [{"C1": "a"}, {"C9": "b"}]}, "rows[1]: unknown field 'C9'"),
        ({"rows": [{"C1": ["a", "b"]}]}, "rows[0], field 'C1': expected text, a number"),
        ({"rows": [{"C1": {"x": 1}}]}, "field 'C1'"),
        ({"rows": ["C1"]}, "rows[0]: expected an object"),
        ({"rows": {"C1": "a"}}, '"rows": expected a list'),
        ({"row": []}, "expected a JSON object"),
    ],
)
def test_a_bad_request_gets_422_naming_the_field(server, body, named):
    response = post(server, body)
    assert response.status_code == 422
    assert named in response.json()["detail"]


def test_a_body_that_is_not_json_gets_a_4xx(server):
    response = httpx.post(
        f"{server.url}/predict", content=b"{not json", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert 400 <= response.status_code < 500


def test_a_bad_request_in_a_batch_leaves_the_others_scored(server):
    import concurrent.futures

    bodies = [{"rows": rows(2)}, {"rows": [{"C9": "x"}]}, {"rows": [{"I1": "not a number"}]}] * 3
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda b: post(server, b), bodies))
    assert [a.status_code for a in answers[0::3]] == [200] * 3
    assert [a.status_code for a in answers[1::3]] == [422] * 3
    assert [a.status_code for a in answers[2::3]] == [422] * 3


def test_a_value_the_encoder_refuses_gets_422_naming_row_and_field(server):
    response = post(server, {"rows": [{"I1": "1"}, {"I1": "not a number"}]})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("rows[1], field 'I1': expected a number, found 'not a number'")


def test_info_names_the_model_fields(server):
    info = httpx.get(f"{server.url}/info", timeout=10).json()
    assert info["model"]["fields"] == FIELDS


# ---- without a server ------------------------------------------------------------------------


def test_check_rows_accepts_scalars_nulls_and_the_label():
    body = {"rows": [{"C1": "a", "I1": 1.5, "I2": 3, "C2": True, "C3": None, "label": 0}]}
    expected = {"I1": 1.5, "I2": 3, "C1": "a", "C2": True, "C3": None, "C4": None, "C5": None, "C6": None}
    assert check_rows(body, FIELDS, "label") == [expected]


def test_check_rows_names_the_row_and_field_of_a_nested_value():
    with pytest.raises(RequestError, match=r"rows\[1\], field 'C2'"):
        check_rows({"rows": [{}, {"C2": [1]}]}, FIELDS, "label")


def test_serve_refuses_a_missing_artifact_with_one_error_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lit_ctr", "serve", "--artifact", str(tmp_path / "nope.onnx"), "--port", "8123"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("lit-ctr: error: ")
    assert "nope.onnx" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_a_host_it_cannot_bind_naming_the_option(artifacts):
    result = subprocess.run(
        [sys.executable, "-m", "lit_ctr", "serve", "--artifact", str(artifacts["onnx"]), "--host", "example.com"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "lit-ctr: error: host: expected one of 127.0.0.1" in result.stderr


def test_a_checkpoint_is_served_like_its_export(artifacts, tmp_path):
    server = Server(artifacts["checkpoint"], tmp_path, "--max_batch_size", "1")
    try:
        server.wait_ready()
        sent = rows(3)
        response = post(server, {"rows": sent})
        assert response.status_code == 200, response.text
        expected = load_predictor(artifacts["onnx"]).predict(sent)
        assert response.json()["probabilities"] == pytest.approx(expected.tolist(), abs=1e-5)
    finally:
        server.stop()
