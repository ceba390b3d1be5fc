"""Fetching and the cache, over a real HTTP server on 127.0.0.1 started by the tests."""

import dataclasses
import hashlib
import http.client
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import weights as zw
from zoo.weights import store

TINY = dict(input_shape=(6,), num_classes=3, hidden_units=(5,))


class _Server:
    """Serves `files` {path: bytes}; `truncate` paths send half the body, then hang up."""

    def __init__(self):
        self.files, self.truncate, self.requests = {}, set(), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.path in server.truncate:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def zoo_home(tmp_path, monkeypatch):
    home = tmp_path / "zoo-home"
    monkeypatch.setenv("ZOO_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    model = zoo.create("mlp", **TINY)
    path = tmp_path_factory.mktemp("tiny") / "tiny.weights.h5"
    model.save_weights(str(path))
    x = np.random.default_rng(0).random((4, 6)).astype("float32")
    return path, path.read_bytes(), x, np.asarray(model.predict(x, verbose=0))


def _spec(url, data, name="mlp.tiny_test", sha256=None):
    return zw.WeightsSpec(
        name=name,
        model="mlp",
        model_config=dict(TINY),
        url=url,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        size=len(data),
        dataset="fashion_mnist",
        metrics={},
        evaluation_command="none (test entry)",
        params=53,
        input_shape=(6,),
        preprocessing="none",
        training_command="none (test entry)",
        license="Apache-2.0",
    )


def _cache_files(home):
    folder = home / "weights"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_first_load_downloads_second_makes_no_request_and_hashes_again(
    server, zoo_home, tiny_file, monkeypatch
):
    _, data, x, expected = tiny_file
    server.files["/w/tiny.weights.h5"] = data
    spec = _spec(server.url + "/w/tiny.weights.h5", data)
    monkeypatch.setitem(zw._entries(), spec.name, spec)

    model = zoo.create("mlp", weights="tiny_test")
    assert server.requests == ["/w/tiny.weights.h5"]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    path = zoo_home / "weights" / spec.filename
    assert path.read_bytes() == data
    assert _cache_files(zoo_home) == [spec.filename]

    calls = []
    monkeypatch.setattr(store, "sha256_of", lambda p: calls.append(p) or spec.sha256)
    model = zoo.create("mlp", weights="mlp.tiny_test")
    assert server.requests == ["/w/tiny.weights.h5"], "the second load went to the network"
    assert calls == [path], "a cached file must be hashed on every load"
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)


def test_an_edit_that_keeps_size_mtime_and_inode_is_caught(server, zoo_home, tiny_file):
    """Bit rot, `touch -r`, a sync tool: nothing in `stat` shows the change."""
    _, data, _, _ = tiny_file
    server.files["/tiny.weights.h5"] = data
    spec = _spec(server.url + "/tiny.weights.h5", data)
    path = zw.fetch(spec)
    zw.fetch(spec)  # a verified load first: no marker may vouch for the file later
    before = os.stat(path)
    with open(path, "r+b") as f:  # in place: same inode, same size
        f.seek(len(data) // 2)
        byte = f.read(1)
        f.seek(len(data) // 2)
        f.write(bytes([byte[0] ^ 0x01]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)
    with pytest.raises(zw.WeightsIntegrityError, match="deleted"):
        zw.fetch(spec)
    assert _cache_files(zoo_home) == []


def test_wrong_hash_raises_and_keeps_nothing(server, zoo_home, tiny_file):
    _, data, _, _ = tiny_file
    server.files["/tiny.weights.h5"] = data
    spec = _spec(server.url + "/tiny.weights.h5", data, sha256="0" * 64)
    with pytest.raises(zw.WeightsIntegrityError, match="sha256"):
        zw.fetch(spec)
    assert len(server.requests) == 1
    assert _cache_files(zoo_home) == []


def test_connection_closed_halfway_raises_and_keeps_nothing(server, zoo_home, tiny_file):
    _, data, _, _ = tiny_file
    server.files["/tiny.weights.h5"] = data
    server.truncate.add("/tiny.weights.h5")
    spec = _spec(server.url + "/tiny.weights.h5", data)
    with pytest.raises((zw.WeightsIntegrityError, OSError, http.client.IncompleteRead)):
        zw.fetch(spec)
    assert _cache_files(zoo_home) == []
    # a later complete download works and is the only file kept
    server.truncate.clear()
    assert zw.fetch(spec).read_bytes() == data
    assert _cache_files(zoo_home) == [spec.filename]


def test_changed_cached_file_is_caught_and_deleted(server, zoo_home, tiny_file):
    _, data, _, _ = tiny_file
    server.files["/tiny.weights.h5"] = data
    spec = _spec(server.url + "/tiny.weights.h5", data)
    path = zw.fetch(spec)
    corrupt = bytearray(data)
    corrupt[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(corrupt))  # same size, new content and mtime
    with pytest.raises(zw.WeightsIntegrityError, match="deleted"):
        zw.fetch(spec)
    assert _cache_files(zoo_home) == []
    assert zw.fetch(spec).read_bytes() == data
    assert len(server.requests) == 2


def test_unreachable_url_lists_every_place_then_a_copied_file_works_offline(
    server, zoo_home, tiny_file
):
    tiny_path, data, _, _ = tiny_file
    spec = _spec(server.url + "/missing.weights.h5", data)
    with pytest.raises(zw.WeightsNotFoundError) as info:
        zw.fetch(spec)
    message = str(info.value)
    dest = zoo_home / "weights" / spec.filename
    assert str(dest) in message and spec.url in message and "To fill it" in message
    assert spec.sha256 in message
    assert _cache_files(zoo_home) == []

    server.close()  # no network from here on
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)  # what the message says to do
    assert zw.fetch(spec) == dest


def test_file_url_and_progress_on_stderr(zoo_home, tiny_file, capsys):
    tiny_path, data, _, _ = tiny_file
    spec = _spec(Path(tiny_path).as_uri(), data)
    path = zw.fetch(spec)
    assert path.read_bytes() == data
    out, err = capsys.readouterr()
    assert "Downloading" in err and f"{len(data)}/{len(data)}" in err and out == ""


def test_unwritable_cache_still_loads_shipped_files(tmp_path, monkeypatch, tiny_file):
    _, data, _, _ = tiny_file
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "t.weights.h5").write_bytes(data)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ZOO_HOME", str(blocker / "zoo"))  # mkdir there fails
    spec = dataclasses.replace(_spec("package://files/t.weights.h5", data), root=str(tmp_path))
    assert zw.fetch(spec) == (tmp_path / "files" / "t.weights.h5").resolve()
    bad = dataclasses.replace(spec, sha256="1" * 64)
    with pytest.raises(zw.WeightsIntegrityError, match="shipped"):
        zw.fetch(bad)


def test_leftover_part_files_are_never_taken_as_weights(zoo_home, tiny_file):
    tiny_path, data, _, _ = tiny_file
    folder = zoo_home / "weights"
    folder.mkdir(parents=True)
    spec = _spec(Path(tiny_path).as_uri(), data)
    stale = folder / f".{spec.filename}.abc.part"  # as a killed download leaves it
    stale.write_bytes(data[:100])
    os.utime(stale, (0, 0))
    zw.fetch(spec, progress=False)
    assert _cache_files(zoo_home) == [spec.filename]


def test_cache_folder_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "a"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "k"))
    assert zw.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("ZOO_HOME")
    assert zw.cache_dir() == tmp_path / "k" / "zoo"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert zw.cache_dir() == tmp_path / "h" / ".keras" / "zoo"
