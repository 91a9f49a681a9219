# `scripts/bench --only master`: the same class for Debian's Locust master.
from locust import HttpUser, constant, task


class Bench(HttpUser):
    wait_time = constant(1)

    @task
    def index(self):
        self.client.get("/")
