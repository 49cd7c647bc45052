import subprocess
import sys

from skvoice._cli import main


def test_demo_writes_report(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out), "--n-speakers", "3", "--n-recordings", "2"]) == 0
    printed = capsys.readouterr().out
    assert "s00" in printed and "Report written to" in printed
    assert (out / "index.html").exists() and (out / "summary.csv").exists()
    assert "s02" in (out / "summary.csv").read_text()


def test_python_m_entry_point(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "skvoice",
            "demo",
            "--out",
            str(tmp_path / "r"),
            "--n-speakers",
            "2",
            "--n-recordings",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "Report written to" in res.stdout


def test_bad_arguments_exit_nonzero(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "skvoice", "demo", "--n-speakers", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1
    assert "n_speakers" in res.stderr and "Traceback" not in res.stderr
