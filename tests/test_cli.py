"""The real `ferkit` command, run in a subprocess as a user would."""

import json
import os
import subprocess
import sys

from ferkit import __version__
from tests.conftest import good_rows, write_fer_csv


def ferkit(*args, cache_dir):
    env = {**os.environ, "FERKIT_CACHE_DIR": str(cache_dir)}
    return subprocess.run([sys.executable, "-m", "ferkit", *map(str, args)], capture_output=True, text=True, env=env)


def test_version_and_help_list_every_command(tmp_path):
    assert ferkit("--version", cache_dir=tmp_path).stdout.strip() == f"ferkit {__version__}"
    top = ferkit("--help", cache_dir=tmp_path).stdout
    assert "ferkit data info" in top and "ferkit data convert" in top
    data = ferkit("data", "--help", cache_dir=tmp_path).stdout
    assert "info" in data and "convert" in data


def test_data_info_json(tmp_path):
    csv_path = write_fer_csv(tmp_path / "fer.csv", [*good_rows(9), ("8", "1 2 3", "Training")])
    result = ferkit("data", "info", csv_path, "--json", cache_dir=tmp_path / "c")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["format"] == "fer2013-csv"
    assert report["splits"]["Training"]["angry"] == 1 and sum(report["splits"]["PrivateTest"].values()) == 3
    assert report["image_size"] == [48, 48] and report["mode"] == "L"
    assert len(report["problems"]) == 1 and "unknown label '8'" in report["problems"][0]["reason"]
    assert "fer.csv:11" in result.stderr  # the skipped row is warned about by name


def test_bare_group_prints_help_and_exits_2(tmp_path):
    result = ferkit("data", cache_dir=tmp_path)
    assert result.returncode == 2 and "info" in result.stdout


def test_data_info_table(tmp_path):
    csv_path = write_fer_csv(tmp_path / "fer.csv", good_rows(9))
    out = ferkit("data", "info", csv_path, cache_dir=tmp_path / "c").stdout
    assert "Training" in out and "PrivateTest" in out and "problems: 0" in out


def test_bad_paths_exit_2_with_one_line_and_no_traceback(tmp_path):
    (tmp_path / "empty").mkdir()
    write_fer_csv(tmp_path / "bad.csv", [*good_rows(2), ("9", "1", "Training")])
    for args in (["data", "info", tmp_path / "missing"], ["data", "info", tmp_path / "empty"],
                 ["data", "info", tmp_path / "bad.csv", "--strict"]):  # fmt: skip
        result = ferkit(*args, cache_dir=tmp_path / "c")
        assert result.returncode == 2
        assert result.stderr.startswith("ferkit: error: ") and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_convert_round_trip_through_the_cli(tmp_path):
    csv_path = write_fer_csv(tmp_path / "fer2013.csv", good_rows(9))
    first = ferkit("data", "convert", csv_path, tmp_path / "folder", cache_dir=tmp_path / "c")
    assert first.returncode == 0, first.stderr
    assert "wrote 9 images" in first.stdout
    second = ferkit("data", "convert", tmp_path / "folder", tmp_path / "back.csv", cache_dir=tmp_path / "c")
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "back.csv").read_bytes() == csv_path.read_bytes()


def test_shapes_prints_the_numpy_lenet_table(tmp_path):
    result = ferkit("shapes", "scratch-lenet5", cache_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "scratch-lenet5, input 1x28x28, 10 classes"
    conv1 = next(line for line in lines if line.startswith("conv1"))
    assert conv1.split()[-4:] == ["6x28x28", "156", "5x5", "117,600"]
    assert lines[-1].split() == ["total", "61,706", "416,520"]


def test_shapes_with_another_input_and_bad_requests(tmp_path):
    ok = ferkit("shapes", "scratch-lenet5-modern", "--input", "1x48x48", "--classes", "7", cache_dir=tmp_path)
    assert ok.returncode == 0 and "16x10x10" in ok.stdout and "Linear(1600→120)" in ok.stdout
    bad = [
        (["vgg16"], "unknown model 'vgg16'"),
        (["lenet5", "--input", "1x8x8"], "too small"),
        (["lenet5", "--input", "3x3"], "CxHxW"),
        (["lenet5", "--input", "1x28x30"], "square"),
    ]
    for args, message in bad:
        result = ferkit("shapes", *args, cache_dir=tmp_path)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_shapes_of_registered_models(tmp_path):
    result = ferkit("shapes", "fastnet", "--input", "1x48x48", cache_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "fastnet, input 1x48x48, 7 classes"
    assert result.stdout.splitlines()[-1].split()[:2] == ["total", "1,174,439"]


def test_train_and_evaluate_report_bad_input_clearly(tmp_path):
    bad_config = tmp_path / "c.yaml"
    bad_config.write_text("train:\n  epoch: 3\n")
    cases = [
        (["train", "--config", bad_config], "unknown config key 'train.epoch'; did you mean 'train.epochs'?"),
        (["train", "--data", tmp_path / "missing"], "does not exist"),
        (["train", "--model", "resnt", "--data", tmp_path], "holds no recognisable dataset"),
        (["evaluate", "--model", tmp_path, "--data", tmp_path], "not a checkpoint folder"),
        (["train"], "no dataset: pass --data PATH"),
    ]
    for args, message in cases:
        result = ferkit(*args, cache_dir=tmp_path / "c")
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


def test_predict_goes_through_a_folder_of_odd_files_and_explain_names_a_bad_one(tmp_path):
    import numpy as np
    from PIL import Image

    from tests.fuzz import EXAMPLE, real_files

    folder = tmp_path / "odd"
    folder.mkdir()
    Image.fromarray(np.full((1, 10_000), 128, np.uint8)).save(folder / "strip.png")  # once a traceback
    Image.fromarray(np.full((30, 40), 40_000, np.uint16)).save(folder / "gray16.png")
    (folder / "truncated.jpg").write_bytes(real_files()[".jpg"][:300])
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("not an image")
    (folder / "broken.mp4").write_bytes(real_files()[".mp4"][:200])
    (folder / "z_face.jpg").write_bytes(EXAMPLE.read_bytes())
    result = ferkit("predict", folder, "--json", tmp_path / "out.jsonl", cache_dir=tmp_path / "c")
    assert result.returncode == 1 and "Traceback" not in result.stderr  # some inputs failed; the batch went on
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    by_name = {os.path.basename(r["source"]): r for r in lines if r["frame"] is None}
    assert set(by_name) >= {"strip.png", "gray16.png", "truncated.jpg", "empty.jpg", "text.png", "z_face.jpg"}
    assert by_name["strip.png"]["error"] is None and by_name["gray16.png"]["error"] is None
    for name in ("truncated.jpg", "empty.jpg", "text.png"):
        assert name in by_name[name]["error"] and "\n" not in by_name[name]["error"]
    assert by_name["z_face.jpg"]["faces"] and by_name["z_face.jpg"]["error"] is None
    explained = ferkit("explain", folder / "text.png", "--out", tmp_path / "x", cache_dir=tmp_path / "c")
    assert explained.returncode == 2 and "text.png" in explained.stderr and "Traceback" not in explained.stderr
    strip = ferkit("explain", folder / "strip.png", "--out", tmp_path / "y", cache_dir=tmp_path / "c")
    assert strip.returncode == 0 and (tmp_path / "y/index.html").is_file()


def test_predict_runtime_torch_and_onnx_give_the_same_probabilities(tmp_path):
    from tests.fuzz import EXAMPLE

    faces = {}
    for runtime in ("torch", "onnx"):
        result = ferkit("predict", EXAMPLE, "--runtime", runtime, cache_dir=tmp_path / "c")
        assert result.returncode == 0, result.stderr
        faces[runtime] = json.loads(result.stdout)["faces"]
    assert len(faces["torch"]) == len(faces["onnx"]) == 1
    torch_probs, onnx_probs = (faces[r][0]["probs"] for r in ("torch", "onnx"))
    assert max(abs(torch_probs[k] - onnx_probs[k]) for k in torch_probs) < 1e-3
    bad = ferkit("predict", EXAMPLE, "--runtime", "tensorrt", cache_dir=tmp_path / "c")
    assert bad.returncode == 2 and "--runtime" in bad.stderr
