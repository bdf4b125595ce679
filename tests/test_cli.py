import pytest
from typer.testing import CliRunner

from overseer.cli import app, main
from overseer.errors import ConfigurationError, ModelNotFoundError


def test_help_lists_the_command_groups():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "models" in result.output


def test_models_list_names_the_embedded_models():
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert "smollm2" in result.output and "organism" in result.output


def test_bad_model_is_one_clear_line_and_a_nonzero_exit(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "inspect", "no-such-model-anywhere"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "error:" in err and "not an embedded model" in err
    assert "Traceback" not in err


def test_debug_shows_the_underlying_exception():
    with pytest.raises(ModelNotFoundError):
        main(["--debug", "models", "inspect", "no-such-model-anywhere"])


def test_errors_inside_subcommands_print_one_line_and_honour_debug(capsys):
    args = ["nsg", "run", "--data", "builtin", "--no-cache"]  # no --reference: a configuration error
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "--reference" in err and "Traceback" not in err
    with pytest.raises(ConfigurationError, match="--reference"):
        main(["--debug", *args])
