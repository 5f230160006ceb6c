# -*- coding: utf-8 -*-
"""Live-test target: non-ASCII function, class, file and thread names.

The helper modules are written at run time next to RECORD_PATH (a directory
the harness owns and removes), so no file with a non-ASCII name is kept in
the source tree.  They cover the three compact string kinds CPython uses:
  données_café.py     Latin-1 only (1 byte per character, not UTF-8)
  модуль_ü.py         BMP (2 bytes per character)
  模块_𠀀.py          beyond the BMP (4 bytes per character)
The main thread is renamed too, so its name is not the default one.

usage: python unicode_names.py RECORD_PATH   (see _record.py; runs until killed)
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

MODULES = {
    u"données_café": u'''# -*- coding: utf-8 -*-
import time


def café_größe(lock):
    lock.acquire()


def sommeil_à_durée(seconds):
    time.sleep(seconds)
''',
    u"модуль_ü": u'''# -*- coding: utf-8 -*-


def сон_функция(ev):
    ev.wait()


class Ждун(object):
    def ждать_вечно(self, cond):
        cond.acquire()
        cond.wait()
''',
    u"模块_\U00020000": u'''# -*- coding: utf-8 -*-


def 待つ(q):
    q.get()


def \U00020000\U00020001_ожидание(ev):
    ev.wait()
''',
}


def 主_停車(lock):
    lock.acquire()


def write_modules(where):
    os.mkdir(where)
    for name, text in MODULES.items():
        with open(os.path.join(where, name + u".py"), "wb") as f:
            f.write(text.encode("utf-8"))
    sys.path.insert(0, where)


def main():
    import queue
    if sys.getfilesystemencoding().lower().replace("-", "") != "utf8":
        sys.stderr.write("unicode_names.py: needs a UTF-8 locale "
                         "(file system encoding is %s)\n"
                         % sys.getfilesystemencoding())
        sys.exit(2)
    rec = _record.recorder_from_argv()
    where = os.path.join(os.path.dirname(os.path.abspath(rec.path)),
                         "unicode-mods-%d" % os.getpid())
    write_modules(where)
    latin = __import__(u"données_café")
    bmp = __import__(u"модуль_ü")
    astral = __import__(u"模块_\U00020000")

    rec.thread(u"поток-замок", latin.café_größe, _record.held_lock())
    rec.thread(u"café-sommeil", latin.sommeil_à_durée, 1e6)
    rec.thread(u"スレッド-イベント", bmp.сон_функция, threading.Event())
    rec.thread(u"Ждун-κατάσταση", bmp.Ждун().ждать_вечно,
               threading.Condition())
    rec.thread(u"🐍-очередь", astral.待つ, queue.Queue())
    rec.thread(u"\U00020000-поток", getattr(astral, u"\U00020000\U00020001_ожидание"),
               threading.Event())
    threading.current_thread().name = u"главный-поток"
    rec.start()
    rec.park(主_停車, _record.held_lock())


if __name__ == "__main__":
    main()
