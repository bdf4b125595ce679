"""Agreement with ARC's reference implementation (mlp_cumulant_propagation, commit 93d091a).

The numbers below are the reference's `mlp_kprop(mlp, {1: 0, 2: I}, k_max, kind, use_avg_metric=False)`
output means (unfactored, float64), computed once on the weights and biases of
`build_mlp(6, 3, activation, bias=True, seed=0)`. They pin every order that both implement to rounding.
"""

import pytest
import torch

from overseer.estimation import build_mlp, make_cumulant_estimator

REFERENCE_OUTPUT_MEANS = {
    "relu": {
        "k1": [
            -0.578618492839339, 0.799609125386376, -0.170787088027383,
            0.673872602148417, -0.0251931442225545, -0.215851977571136,
        ],
        "k2": [
            -0.578189827686639, 0.849078398941587, -0.159286725109388,
            0.621523448480691, -0.0887251738497536, -0.227124186155296,
        ],
        "k2-augment": [
            -0.534549598276541, 0.823553698994902, -0.133764965704719,
            0.555723442274391, -0.148706199371866, -0.228312196869101,
        ],
        "k3-augment": [
            -0.552074761879561, 0.802954121583, -0.142628723805154,
            0.5923795902632, -0.123671741410653, -0.240921690200002,
        ],
        "k4": [
            -0.551642987157641, 0.803248693827068, -0.1433944869714,
            0.59127650671333, -0.122517484246236, -0.241339783451884,
        ],
    },
    "sgn": {
        "k1": [
            -0.0136790005433182, -0.209524088524238, 0.0118398495212976,
            0.143263719925292, -0.261719525529333, -0.120064676832319,
        ],
        "k2": [
            0.0239146408590497, -0.274317402766185, 0.0119001531444813,
            0.173209035794109, -0.327084152589431, -0.126833148380093,
        ],
        "k2-augment": [
            -0.0309629405974259, -0.185994283446462, 0.0137853577135678,
            0.127933063684052, -0.235037172118713, -0.108829544287156,
        ],
        "k3-augment": [
            0.0385582027390786, -0.293087119616003, 0.0188643994843541,
            0.169780450722995, -0.36247934557166, -0.113420360014452,
        ],
        "k4": [
            0.0355404800131454, -0.291842537440046, 0.0173678687544452,
            0.176181833898884, -0.350107374453123, -0.117740621688414,
        ],
    },
    "gelu": {
        "k1": [
            -0.495155937585628, 0.773748843656091, -0.0753750725910797,
            0.442824726817403, -0.0607197862048027, -0.0886510902726297,
        ],
        "k2": [
            -0.503227647451808, 0.833003839385507, -0.0624302355734766,
            0.388707891774594, -0.141848048127065, -0.103331538988132,
        ],
        "k2-augment": [
            -0.472268271526284, 0.771107862931914, -0.0467397983805649,
            0.350615727012655, -0.166522376961353, -0.123026988784909,
        ],
        "k3-augment": [
            -0.475237652595279, 0.757292241897522, -0.0512578985865036,
            0.365771722334657, -0.152715783040443, -0.129032522899556,
        ],
        "k4": [
            -0.482339812520384, 0.759466729129624, -0.0516751234660517,
            0.369256313083574, -0.163114712316201, -0.142016612909051,
        ],
    },
}


@pytest.mark.parametrize("activation", sorted(REFERENCE_OUTPUT_MEANS))
@pytest.mark.parametrize("name", ["k1", "k2", "k2-augment", "k3-augment", "k4"])
def test_output_means_match_the_reference_implementation(activation, name):
    result = make_cumulant_estimator(name, count_flops=False).estimate(build_mlp(6, 3, activation, bias=True, seed=0))
    expected = torch.tensor(REFERENCE_OUTPUT_MEANS[activation][name], dtype=torch.float64)
    # gelu's expectations are 100-node Gauss-Hermite quadratures in both codes.
    assert torch.allclose(result.layer_means[-1], expected, atol=1e-12, rtol=0)
