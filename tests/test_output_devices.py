"""-o naming a device or a pipe writes to it and never replaces it with a file (-o /dev/null as root
once turned the machine's /dev/null into a regular file)."""
import os
import stat
import threading

from checker.cli.output import write_output


def test_a_pipe_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, encoding="utf-8").read()))
    reader.start()
    write_output("report\n", str(fifo))
    reader.join(10)
    assert got == ["report\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dev_null_stays_a_device():
    write_output("report\n", os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
