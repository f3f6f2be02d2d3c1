import pytest

from ferkit.fileio import atomic_path, atomic_write_text


def test_atomic_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "sub/out.txt"
    atomic_write_text(target, "first")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]  # the temp file is gone


def test_finished_files_get_the_usual_permissions(tmp_path):
    import os

    atomic_write_text(tmp_path / "x.txt", "hi")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_only_the_temps_of_the_named_targets_are_leftovers(tmp_path):
    from ferkit.fileio import is_leftover_temp, remove_leftover_temps

    for name in (".a.png.k3j_x9zq.tmp", ".a.png.zz.tmp", ".b.png.k3j_x9zq.tmp", "a.png", ".a.png", "x.tmp"):
        (tmp_path / name).write_text("")
    assert is_leftover_temp(".a.png.k3j_x9zq.tmp", {"a.png"}) and not is_leftover_temp("a.png.tmp", {"a.png"})
    assert remove_leftover_temps(tmp_path, {"a.png"}) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.png", ".b.png.k3j_x9zq.tmp", "a.png", "x.tmp"]
    assert remove_leftover_temps(tmp_path / "missing", {"a.png"}) == 0
