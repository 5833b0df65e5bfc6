"""A job that only waits, so that a client can stop it while it runs."""

import time

print("sleeping until stopped", flush=True)
time.sleep(600)
