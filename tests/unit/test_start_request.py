"""StartRequest: the one shape of "start a sync", parsed once and impossible to build wrong."""

import pytest

from sync.model import Mode, Target
from sync.request import StartRequest, StartRequestError


def test_loose_input_becomes_a_typed_request_with_a_padded_code():
    request = StartRequest.parse(mode="especifica", target="local", code=" 2026-886 ")
    assert request == StartRequest(Mode.ESPECIFICA, Target.LOCAL, code="2026-000886")
    assert StartRequest.parse(mode="historico", year="2025").year == 2025


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"mode": "historico"}, "necesita un año"),
        ({"mode": "historico", "year": 1850}, "Año no válido"),
        ({"mode": "rebuild", "year": 2025}, "solo se usa con el modo histórico"),
        ({"mode": "especifica"}, "necesita el código"),
        ({"mode": "especifica", "code": "2026-1", "from_code": "2026-2"}, "no se usa con el modo especifica"),
        ({"mode": "todo"}, "Modo desconocido"),
        ({"target": "staging"}, "Destino desconocido"),
        ({"code": "26-1", "mode": "especifica"}, "AAAA-NNNNNN"),
        ({"force": "yes"}, "force debe ser true o false"),
        ({"limit": 0}, "número positivo"),
    ],
)
def test_bad_input_is_refused_in_spanish(fields, words):
    with pytest.raises(StartRequestError, match=words):
        StartRequest.parse(**fields)


def test_a_bad_combination_cannot_be_constructed_directly_either():
    with pytest.raises(StartRequestError):
        StartRequest(Mode.HISTORICO)


def test_the_journal_keeps_the_keys_earlier_versions_wrote():
    request = StartRequest.parse(mode="historico", year=2025, from_code="2025-7", force=True)
    params = request.to_params()
    assert params == {"mode": "historico", "target": "production", "anio": "2025",
                      "desde_codigo": "2025-000007", "force": True}  # fmt: skip
    assert StartRequest.from_params(params) == request
    assert request.metadata_modo == "historico-2025"
