# A master whose classes are not the workers' (tests/integration/test_distributed.py).
from locust import HttpUser, task


class Admin(HttpUser):
    @task
    def index(self):
        self.client.get("/")
