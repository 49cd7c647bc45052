import subprocess
import sys

from skvoice._cli import main


def test_demo_writes_report(tmp_path, capsys):
    out = tmp_path / "report"
    args = [
        "demo",
        "--out",
        str(out),
        "--n-speakers",
        "4",
        "--n-recordings",
        "4",
        "--epochs",
        "1",
        "--quick",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "s00" in printed and "Report written to" in printed and "EER" in printed
    page = (out / "index.html").read_text()
    for part in ("corpus.png", "inspection.png", "Open-set evaluation", "MC dropout"):
        assert part in page
    assert (out / "corpus.png").exists() and (out / "inspection.png").exists()
    assert "s03" in (out / "summary.csv").read_text()


def test_python_m_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "skvoice", "--version"], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("skvoice ")


def test_bad_arguments_exit_nonzero(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "skvoice", "demo", "--n-speakers", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1
    assert "n_speakers" in res.stderr and "Traceback" not in res.stderr


def _write_corpus(root, n_speakers=4, n_recordings=4):
    import soundfile as sf

    from skvoice.datasets import make_voices

    v = make_voices(n_speakers=n_speakers, n_recordings=n_recordings, duration=1.0, random_state=0)
    for i, (y, s) in enumerate(zip(v.data, v.speaker)):
        (root / s).mkdir(parents=True, exist_ok=True)
        sf.write(root / s / f"rec{i}.wav", y, v.sr)
    return v


def test_train_verify_evaluate_end_to_end(tmp_path):
    import json

    data = tmp_path / "data"
    v = _write_corpus(data)
    model = tmp_path / "model.skvoice"
    env_args = [sys.executable, "-m", "skvoice"]
    res = subprocess.run(
        env_args
        + ["train", str(data), "--allowed", "s00,s01", "--out", str(model), "--epochs", "2"]
        + ["--checkpoint-dir", str(tmp_path / "ckpt")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert model.exists()
    assert len(list((tmp_path / "ckpt").glob("cnn-*.pt"))) == 1
    wav = sorted((data / "s00").glob("*.wav"))[0]
    res = subprocess.run(
        env_args + ["verify", str(model), str(wav), "--json", "--passes", "5"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows[0]["decision"] in ("accept", "refuse") and 0 <= rows[0]["probability"] <= 1
    res = subprocess.run(
        env_args + ["evaluate", str(model), str(data), "--allowed", "s00,s01"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert "EER" in res.stdout
    del v


def test_cli_errors_are_one_line(tmp_path):
    bad_audio = tmp_path / "bad.wav"
    bad_audio.write_bytes(b"not audio")
    cases = [
        ["verify", str(tmp_path / "missing.skvoice"), str(bad_audio)],
        ["train", str(tmp_path / "nodata"), "--allowed", "a", "--out", str(tmp_path / "m")],
    ]
    for args in cases:
        res = subprocess.run(
            [sys.executable, "-m", "skvoice", *args], capture_output=True, text=True, timeout=300
        )
        assert res.returncode == 1
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_eda_command(tmp_path):
    data = tmp_path / "data"
    _write_corpus(data, n_speakers=3, n_recordings=2)
    out = tmp_path / "eda"
    assert main(["eda", str(data), "--out", str(out), "--allowed", "s00"]) == 0
    assert (out / "corpus.png").exists() and "s02" in (out / "index.html").read_text()
