# The Locust side of tests/integration/test_web_locust_compat.py: the same users as
# ../scenarios/web_two_endpoints.lua, for Debian's Locust.
from locust import HttpUser, constant, task


class Web(HttpUser):
    wait_time = constant(0.005)

    @task(3)
    def items(self):
        self.client.get("/items")

    @task(1)
    def fail(self):
        self.client.get("/status/500", name="/fail")
