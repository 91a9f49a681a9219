# scripts/bench: Locust's side, run only when Debian's python3-locust is installed.
#   FastPlain, HttpPlain: comparison 6, the plain GET loop of tests/bench/plain.lua (no wait time)
#   FastIdle:             comparison 2, the idle users of tests/bench/idle.lua (a request a second)
# Usage: locust -f tests/bench/locustfile.py FastPlain --headless -u 50 -r 50 -t 5s -H URL
from locust import FastHttpUser, HttpUser, constant, task


class FastPlain(FastHttpUser):
    @task
    def get(self):
        self.client.get("/")


class HttpPlain(HttpUser):
    @task
    def get(self):
        self.client.get("/")


class FastIdle(FastHttpUser):
    wait_time = constant(1)

    @task
    def get(self):
        self.client.get("/")
