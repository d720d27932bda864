import pytest

from quizgen.reference import registry


def test_resolve_finds_a_public_function():
    fn = registry.resolve("gradcheck.relative_error")
    assert fn([1.0], [1.0]) == 0.0


@pytest.mark.parametrize(
    "name, message",
    [
        ("relative_error", "family.function"),
        ("nosuch.fn", "family.function"),
        ("gradcheck.nosuch", "gradcheck has"),
        ("gradcheck.np", "gradcheck has"),  # a module attribute that is not in __all__
    ],
)
def test_resolve_rejects_names_outside_the_registry(name, message):
    with pytest.raises(ValueError, match=message):
        registry.resolve(name)
