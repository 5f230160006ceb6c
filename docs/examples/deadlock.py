"""Two threads that deadlock, for the README's second recipe.

Two transfers run at once in opposite directions; each takes the lock of
the account it debits, then the lock of the account it credits.  Each ends
up holding one lock and waiting for the other's.

usage: python3 deadlock.py      (never ends; kill it)
"""
import os
import threading
import time


class Account:
    def __init__(self, name, balance):
        self.name = name
        self.balance = balance
        self.lock = threading.Lock()


def transfer(src, dst, amount):
    with src.lock:
        time.sleep(0.1)                    # long enough for the other one
        with dst.lock:
            src.balance -= amount
            dst.balance += amount


def main():
    savings = Account("savings", 100)
    checking = Account("checking", 100)
    print("deadlock.py: pid %d" % os.getpid(), flush=True)
    threads = [
        threading.Thread(target=transfer, args=(savings, checking, 10),
                         name="transfer-1"),
        threading.Thread(target=transfer, args=(checking, savings, 20),
                         name="transfer-2"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
