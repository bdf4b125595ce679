import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """The estimation tests are small; one thread avoids contention on shared machines."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
