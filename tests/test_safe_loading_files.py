"""
Opening a file's container is safe (sb3_cartdqn/persistence/archive.py, limits.py and the loaders that use them):
zip and npz files with a duplicated entry, a zip bomb (declared, or hidden behind a directory that lies), an
unreferenced huge entry, an encrypted or oddly compressed entry, a JSON entry nested thousands deep; a checkpoint's
``state.npz`` with a pickled field; policy files that are missing, empty, truncated or a folder. Each crafted file is
built here; where it carries code, it is shown to run that code through the plain reader (or with the opt-in), and
to be refused by default.
"""

import io
import json
import pickle
import shutil
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pytest
import test_safe_loading as attacks
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.save_util import load_from_zip_file

from sb3_cartdqn import CartDQN
from sb3_cartdqn.cartdqn.policies import CartDQNPolicy
from sb3_cartdqn.persistence.checkpoints import STATE_KIND, CartDQNCheckpointCallback, load_checkpoint
from sb3_cartdqn.persistence.data_file import HEADER, open_data_file, write_data_file
from sb3_cartdqn.persistence.limits import (
    DATA_ENTRY_BYTES,
    MAX_FILE_BYTES_ENV_VAR,
    MAX_JSON_DEPTH,
    FileLimitError,
    json_depth,
    max_file_bytes,
)
from sb3_cartdqn.persistence.trust import TRUST_ENV_VAR, ModelFileError, UntrustedFileError

GiB = 1 << 30


@pytest.fixture(autouse=True)
def _defaults(monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    monkeypatch.delenv(MAX_FILE_BYTES_ENV_VAR, raising=False)


# The attack matrix's fixtures: a marker path, and an honest model, replay buffer (and here its policy file)
marker = attacks.marker
trained = attacks.trained
_Payload = attacks._Payload


@pytest.fixture(scope="module")
def honest(trained):
    folder, model = trained
    model.policy.save(folder / "policy.pth")
    return folder, model


def _entries(path):
    with zipfile.ZipFile(path) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def _deflate(content):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(content) + compressor.flush()


def _zeros(mib):
    """A raw deflate stream of ``mib`` MiB of zeros, about 1 KiB per MiB, built without compressing it all."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(1 << 20)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)  # after a full flush: the same bytes
    return first + again * (mib - 1) + compressor.flush()


def test_zeros_stream_inflates_to_what_it_says():
    stream = _zeros(5)
    assert zlib.decompress(stream, -zlib.MAX_WBITS) == bytes(5 << 20)
    assert len(_zeros(3 * 1024)) < 3.5e6  # 3 GiB from about 3.3 MB


def _raw_zip(path, entries):
    """
    Write a zip by hand: ``entries`` are ``(name, raw, method, size, crc, flags)``; ``raw`` is written as it is
    (already compressed), ``size`` and ``crc`` are what the directory declares.
    """
    out, central = bytearray(), bytearray()
    for name, raw, method, size, crc, flags in entries:
        offset, encoded = len(out), name.encode()
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0, crc, len(raw), size, len(encoded), 0)
        out += encoded + raw
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0, crc, len(raw), size, len(encoded), 0, 0, 0, 0, 0, offset
        )
        central += encoded
    start = len(out)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def _deflated(name, content, flags=0):
    return (name, _deflate(content), zipfile.ZIP_DEFLATED, len(content), zlib.crc32(content), flags)


def _model_with(honest, tmp_path, replace=None, extra=()):
    """The honest model zip rewritten by hand: ``replace`` maps entry names to raw entries, ``extra`` is appended."""
    folder, _ = honest
    replace = replace or {}
    entries = [replace.get(name) or _deflated(name, content) for name, content in _entries(folder / "model.zip")]
    return _raw_zip(tmp_path / "crafted.zip", entries + list(extra))


def _quick_and_small(load, seconds=1.0, peak=64 << 20):
    """Run ``load``, which must raise a FileLimitError fast and without inflating much; return the error."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(FileLimitError) as error:
            load()
    finally:
        elapsed = time.perf_counter() - start
        _, used = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert used < peak, f"peak {used / 2**20:.0f} MiB"
    return error


def test_the_honest_files_are_written_as_the_readers_expect(honest, tmp_path):
    _, model = honest
    assert CartDQN.load(_model_with(honest, tmp_path)).num_timesteps == model.num_timesteps  # the hand-written zip


# Duplicated entries: the last one wins in zipfile (and so in SB3): refused whatever the opt-in
def test_model_zip_with_a_duplicated_data_entry(honest, tmp_path, marker):
    folder, _ = honest
    fields = json.loads(dict(_entries(folder / "model.zip"))["data"])
    crafted = dict(fields, lr_schedule={":type:": "<class 'function'>", ":serialized:": ""})
    crafted["lr_schedule"][":serialized:"] = __import__("base64").b64encode(pickle.dumps(_Payload(marker))).decode()
    path = _model_with(honest, tmp_path, extra=[_deflated("data", json.dumps(crafted).encode())])
    for trust_code in (None, True):
        with pytest.raises(ModelFileError, match=r"holds the entry 'data' more than once") as error:
            CartDQN.load(path, trust_code=trust_code)
        assert str(path) in str(error.value)
    assert not marker.exists()
    load_from_zip_file(path)  # the attack is live: SB3's reader takes the last entry and unpickles it
    assert marker.exists()


def test_npz_with_a_duplicated_array(honest, tmp_path, marker):
    folder, model = honest
    entries = _entries(folder / "buffer.pkl")
    crafted = io.BytesIO()
    np.save(crafted, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    path = tmp_path / "buffer.npz"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate, and writes it
        for name, content in [*entries, ("array_0.npy", crafted.getvalue())]:
            archive.writestr(name, content)
    for trust_code in (None, True):
        with pytest.raises(ModelFileError, match=r"holds the entry 'array_0.npy' more than once"):
            model.load_replay_buffer(path, trust_code=trust_code)
    assert not marker.exists()
    with np.load(path, allow_pickle=True) as archive:  # the attack is live: NumPy reads the last one
        archive["array_0"]
    assert marker.exists()


# Zip bombs
def test_model_zip_data_bomb_is_refused_in_well_under_a_second(honest, tmp_path):
    bomb = ("data", _zeros(3 * 1024), zipfile.ZIP_DEFLATED, 3 * GiB, 0, 0)
    path = _model_with(honest, tmp_path, replace={"data": bomb})
    assert path.stat().st_size < 4e6
    error = _quick_and_small(lambda: CartDQN.load(path))
    message = str(error.value)
    assert str(path) in message and "'data'" in message and f"limit of {DATA_ENTRY_BYTES} bytes" in message, message


def test_model_zip_whose_directory_lies_about_a_bomb(honest, tmp_path):
    folder, _ = honest
    data = dict(_entries(folder / "model.zip"))["data"]
    stream = _zeros(3 * 1024)  # declared as the honest entry: size and CRC
    path = _model_with(
        honest, tmp_path, replace={"data": ("data", stream, zipfile.ZIP_DEFLATED, len(data), zlib.crc32(data), 0)}
    )
    error = _quick_and_small(lambda: CartDQN.load(path))
    assert "inflates to more than the" in str(error.value) and "'data'" in str(error.value)


def test_model_zip_tensor_bomb_is_refused_by_its_compression_ratio(honest, tmp_path):
    bomb = ("policy.pth", _zeros(3 * 1024), zipfile.ZIP_DEFLATED, 3 * GiB, 0, 0)
    path = _model_with(honest, tmp_path, replace={"policy.pth": bomb})
    error = _quick_and_small(lambda: CartDQN.load(path))
    assert "'policy.pth'" in str(error.value) and "zip bomb" in str(error.value) and MAX_FILE_BYTES_ENV_VAR in str(error.value)


def test_model_zip_tensor_entry_larger_than_its_pickle_declares(honest, tmp_path):
    folder, _ = honest
    inner = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(dict(_entries(folder / "model.zip"))["policy.pth"])) as honest_policy:
        with zipfile.ZipFile(inner, "w") as padded:  # the same records, and 8 MiB more that no storage names
            for name in honest_policy.namelist():
                padded.writestr(name, honest_policy.read(name))
            padded.writestr("policy/data/padding", bytes(8 << 20))
    path = _model_with(honest, tmp_path, replace={"policy.pth": _deflated("policy.pth", inner.getvalue())})
    declared = r"'policy.pth' declares \d+ bytes uncompressed, beyond the limit of \d+ bytes for a PyTorch archive whose"
    with pytest.raises(FileLimitError, match=declared + " pickle declares tensors") as error:
        CartDQN.load(path)
    assert str(path) in str(error.value)


def test_unreferenced_huge_entries_are_never_inflated(honest, tmp_path):
    folder, model = honest
    junk = ("notes.bin", _zeros(3 * 1024), zipfile.ZIP_DEFLATED, 3 * GiB, 0, 0)
    path = _model_with(honest, tmp_path, extra=[junk])
    start = time.perf_counter()
    assert CartDQN.load(path).num_timesteps == model.num_timesteps
    assert time.perf_counter() - start < 5  # the load itself; inflating 3 GiB would take longer
    buffer_path = tmp_path / "buffer.npz"
    shutil.copy(folder / "buffer.pkl", buffer_path)
    with zipfile.ZipFile(buffer_path) as archive:
        entries = [(info.filename, archive.read(info), 0, info.file_size, info.CRC, 0) for info in archive.infolist()]
    _raw_zip(buffer_path, [*entries, ("array_99.npy", _zeros(3 * 1024), zipfile.ZIP_DEFLATED, 3 * GiB, 0, 0)])
    start = time.perf_counter()
    model.load_replay_buffer(buffer_path)
    assert time.perf_counter() - start < 5


def test_model_zip_with_an_unknown_tensor_entry(honest, tmp_path):
    buffer = io.BytesIO()
    th.save({"x": th.zeros(2)}, buffer)
    path = _model_with(honest, tmp_path, extra=[_deflated("extra.pth", buffer.getvalue())])
    with pytest.raises(ModelFileError, match=r"its entry 'extra.pth' is not one CartDQN writes"):
        CartDQN.load(path)


@pytest.mark.parametrize(
    ("flags", "method", "message", "raw_error"),
    [
        (0x1, zipfile.ZIP_DEFLATED, "is encrypted", RuntimeError),
        (0, zipfile.ZIP_LZMA, "method 14 \\(lzma\\)", ValueError),  # SB3: "wasn't a zip-file"
        (0, 77, "method 77", NotImplementedError),
    ],
)
def test_encrypted_and_oddly_compressed_entries(honest, tmp_path, flags, method, message, raw_error):
    folder, _ = honest
    data = dict(_entries(folder / "model.zip"))["data"]
    raw = ("data", _deflate(data), method, len(data), zlib.crc32(data), flags)
    path = _model_with(honest, tmp_path, replace={"data": raw})
    with pytest.raises(ModelFileError, match=message) as error:
        CartDQN.load(path)
    assert str(path) in str(error.value) and "'data'" in str(error.value)
    with pytest.raises(raw_error):
        load_from_zip_file(path)  # what SB3's own reader raises


def test_compressed_npz_entries_are_refused(honest, tmp_path):
    folder, model = honest
    path = tmp_path / "buffer.npz"
    with np.load(folder / "buffer.pkl") as archive:
        np.savez_compressed(path, **{name: archive[name] for name in archive.files})
    with pytest.raises(ModelFileError, match=r"is compressed with method 8 \(deflated\); this kind of file is stored"):
        model.load_replay_buffer(path)


def test_npz_array_whose_header_lies_about_its_shape(honest, tmp_path):
    folder, model = honest
    entries = _entries(folder / "buffer.pkl")
    lying = io.BytesIO()
    np.lib.format.write_array_header_1_0(lying, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 4)})
    path = tmp_path / "buffer.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries:
            archive.writestr(name, lying.getvalue() + content[128:] if name == "array_0.npy" else content)
    with pytest.raises(ModelFileError, match=r"'array_0' declares an array of shape \(1000000000000, 4\)"):
        model.load_replay_buffer(path)


def test_global_cap_and_its_opt_out(honest, monkeypatch):
    folder, model = honest
    size = (folder / "buffer.pkl").stat().st_size
    monkeypatch.setenv(MAX_FILE_BYTES_ENV_VAR, str(size // 2))
    with pytest.raises(FileLimitError, match=rf"global cap of {size // 2} bytes.*{MAX_FILE_BYTES_ENV_VAR}"):
        model.load_replay_buffer(folder / "buffer.pkl")
    with pytest.raises(FileLimitError, match="global cap"):
        CartDQN.load(folder / "model.zip")
    monkeypatch.setenv(MAX_FILE_BYTES_ENV_VAR, "unlimited")
    model.load_replay_buffer(folder / "buffer.pkl")
    CartDQN.load(folder / "model.zip")


@pytest.mark.parametrize(
    ("value", "expected"), [("", 4 * GiB), ("64G", 64 * GiB), ("1000", 1000), ("2MiB", 2 << 20), ("unlimited", None)]
)
def test_max_file_bytes_setting(monkeypatch, value, expected):
    monkeypatch.setenv(MAX_FILE_BYTES_ENV_VAR, value)
    assert max_file_bytes() == expected


def test_max_file_bytes_setting_must_be_a_size(monkeypatch):
    monkeypatch.setenv(MAX_FILE_BYTES_ENV_VAR, "lots")
    with pytest.raises(ValueError, match=f"{MAX_FILE_BYTES_ENV_VAR}='lots' is not a size"):
        max_file_bytes()


# Nesting
def _nested(depth):
    return "[" * depth + "]" * depth


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{\\"]]"}]}') == 3
    assert json_depth(_nested(3000).encode()) == 3000


def test_model_zip_data_nested_3000_deep(honest, tmp_path):
    folder, _ = honest
    fields = json.loads(dict(_entries(folder / "model.zip"))["data"])
    text = json.dumps(fields)[:-1] + ', "deep": ' + _nested(3000) + "}"
    with pytest.raises(RecursionError):  # what json (and SB3's json_to_data) raise on it
        json.loads(text)
    path = _model_with(honest, tmp_path, replace={"data": _deflated("data", text.encode())})
    with pytest.raises(FileLimitError, match=rf"'data' nests 3001 levels deep, beyond the limit of {MAX_JSON_DEPTH}") as error:
        CartDQN.load(path)
    assert str(path) in str(error.value)


def test_data_file_header_nested_3000_deep(honest, tmp_path):
    _, model = honest
    header = '{"kind": "replay buffer", "format": 1, "value": ' + _nested(3000) + "}"
    path = tmp_path / "buffer.npz"
    np.savez(path, **{HEADER: np.frombuffer(header.encode(), dtype=np.uint8)})
    with pytest.raises(FileLimitError, match=r"nests 3001 levels deep"):
        model.load_replay_buffer(path)


def test_policy_file_nested_3000_deep(honest, tmp_path):
    folder, _ = honest
    saved = th.load(folder / "policy.pth", weights_only=True)
    saved["data_json"] = saved["data_json"][:-1] + ', "deep": ' + _nested(3000) + "}"
    path = tmp_path / "policy.pth"
    th.save(saved, path)
    with pytest.raises(FileLimitError, match=r"'data_json' nests 3001 levels deep"):
        CartDQNPolicy.load(str(path))


# Checkpoint state: no field is unpickled without the opt-in, whatever its name
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    model = CartDQN("MlpPolicy", make_vec_env("CartPole-v1", seed=0), **attacks.KWARGS)
    model.learn(100, callback=CartDQNCheckpointCallback(100, str(folder)))
    return folder / "cartdqn_100_steps"


def test_checkpoint_state_with_a_pickled_field(checkpoint, tmp_path, marker):
    folder = tmp_path / "cartdqn_100_steps"
    shutil.copytree(checkpoint, folder)
    state = open_data_file(folder / "state.npz", STATE_KIND, "test", False, "")
    state["env_pickle"] = pickle.dumps(_Payload(marker))
    with open(folder / "state.npz", "wb") as file:
        write_data_file(file, STATE_KIND, state)
    with pytest.raises(UntrustedFileError, match=r"its field 'env_pickle' holds a pickle") as error:
        load_checkpoint(folder, make_vec_env("CartPole-v1", seed=0), device="cpu")
    assert str(folder / "state.npz") in str(error.value)
    assert not marker.exists()
    try:  # the attack is live: with the opt-in, the field is unpickled
        load_checkpoint(folder, make_vec_env("CartPole-v1", seed=0), device="cpu", trust_code=True)
    except Exception:
        pass
    assert marker.exists()


# Policy files: the same clear errors as CartDQN.load
@pytest.mark.parametrize("case", ["missing", "empty", "truncated", "folder", "junk"])
def test_policy_file_paths(honest, tmp_path, case):
    folder, _ = honest
    path = tmp_path / "policy.pth"
    content = (folder / "policy.pth").read_bytes()
    if case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        path.write_bytes(content[: len(content) // 2])
    elif case == "folder":
        path.mkdir()
    elif case == "junk":
        path.write_bytes(b"PK\x03\x04 not really a zip")
    message = {"missing": "no policy file at", "folder": "it is a folder", "empty": "is empty"}.get(case, "not a complete")
    with pytest.raises(ModelFileError, match=message) as error:
        CartDQNPolicy.load(str(path))
    assert str(path) in str(error.value)


def test_policy_file_with_a_duplicated_record(honest, tmp_path, marker):
    folder, _ = honest
    path = tmp_path / "policy.pth"
    with zipfile.ZipFile(folder / "policy.pth") as honest_file, zipfile.ZipFile(path, "w") as crafted:
        names = honest_file.namelist()
        for name in names:
            crafted.writestr(name, honest_file.read(name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate, and writes it
            crafted.writestr(names[0], pickle.dumps(_Payload(marker)))  # a second data.pkl
    for trust_code in (None, True):
        with pytest.raises(ModelFileError, match=rf"holds the entry {names[0]!r} more than once") as error:
            CartDQNPolicy.load(str(path), trust_code=trust_code)
        assert str(path) in str(error.value)
    assert not marker.exists()


def test_policy_file_round_trip(honest):
    folder, model = honest
    loaded = CartDQNPolicy.load(str(folder / "policy.pth"))
    for name, tensor in model.policy.state_dict().items():
        assert th.equal(loaded.state_dict()[name], tensor)
    with open(folder / "policy.pth", "rb") as file:
        assert CartDQNPolicy.load(file).state_dict().keys() == loaded.state_dict().keys()  # type: ignore[arg-type]
