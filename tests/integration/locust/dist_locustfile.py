# The Locust master's side of tests/integration/test_distributed.py: the classes of
# ../scenarios/dist_shop.lua, by name and weight (a master only dispatches users; the cicada
# workers run the Lua tasks).
from locust import HttpUser, constant, task


class Shopper(HttpUser):
    weight = 3
    wait_time = constant(0.1)

    @task
    def items(self):
        self.client.get("/items/1", name="/items/[id]")


class Broken(HttpUser):
    weight = 1
    wait_time = constant(0.1)

    @task
    def error(self):
        self.client.get("/error")
