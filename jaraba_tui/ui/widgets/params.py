"""The small form of an action's parameters (a silence's duration and required comment, a
blue/green switch all at once or in steps...), built from its ``ParamSpec``s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select

from jaraba_tui.actions.types import ParamSpec

#: Choices offered for the blue/green switch's canary steps.
STEP_CHOICES: tuple[tuple[str, str], ...] = (
    ("all at once (100%)", "100"),
    ("in steps: 10%, 50%, 100%", "10,50,100"),
)
BOOL_CHOICES: tuple[tuple[str, str], ...] = (("no", "no"), ("yes", "yes"))


def _initial(spec: ParamSpec, given: Mapping[str, object]) -> str:
    if spec.name in given:
        value = given[spec.name]
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, tuple | list):
            return ",".join(str(v) for v in value)
        return str(value)
    return spec.default or ""


def _normal(spec: ParamSpec, value: str) -> str:
    """A bool as yes/no; steps without spaces; empty -> the first choice."""
    if spec.kind == "bool":
        return "yes" if value.strip().lower() in ("1", "true", "yes", "on", "y") else "no"
    return value.replace(" ", "") or STEP_CHOICES[0][1]


def _choices(spec: ParamSpec, value: str) -> list[tuple[str, str]]:
    """The fixed choices, plus ``value`` when it is none of them (an undo's parameters)."""
    base = list(STEP_CHOICES if spec.kind == "percent-steps" else BOOL_CHOICES)
    if value not in {v for _, v in base}:
        base.append((value, value))
    return base


class ParamsForm(Vertical):
    """One labelled field per parameter, and a button that runs the preflight checks."""

    DEFAULT_CSS = """
    ParamsForm { height: auto; }
    ParamsForm .param-row { height: auto; }
    ParamsForm Label.param-label { width: 12; text-style: bold; }
    ParamsForm Label.param-help { padding: 0 0 0 12; color: $text-muted; }
    ParamsForm Input, ParamsForm Select { width: 1fr; }
    ParamsForm #params-go { margin: 0 0 0 12; }
    """

    def __init__(self, specs: Sequence[ParamSpec], given: Mapping[str, object]) -> None:
        super().__init__(id="action-params")
        self.specs = list(specs)
        self.given = dict(given)

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            value = _initial(spec, self.given)
            label = spec.name + (" *" if spec.required else "")
            with Horizontal(classes="param-row"):
                yield Label(label, classes="param-label")
                field: Widget
                if spec.kind in ("bool", "percent-steps"):
                    value = _normal(spec, value)
                    field = Select(
                        _choices(spec, value),
                        value=value,
                        allow_blank=False,
                        compact=True,
                        id=f"param-{spec.name}",
                    )
                else:
                    hint = "required" if spec.required else "optional: empty for none"
                    field = Input(
                        value=value, placeholder=hint, compact=True, id=f"param-{spec.name}"
                    )
                field.tooltip = spec.help
                yield field
            yield Label(spec.help, classes="param-help")
        yield Button("Run the preflight checks", id="params-go", variant="primary", compact=True)

    def values(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for spec in self.specs:
            widget = self.query_one(f"#param-{spec.name}")
            if isinstance(widget, Select):
                value = widget.value
                out[spec.name] = "" if value is Select.BLANK else str(value)
            elif isinstance(widget, Input):
                text = widget.value.strip()
                if text or spec.required:
                    out[spec.name] = text
        return out

    def first_field(self) -> Widget:
        """Where typing starts: the first required field, else the button."""
        for spec in self.specs:
            if spec.required:
                return self.query_one(f"#param-{spec.name}")
        return self.query_one("#params-go")

    def freeze(self) -> None:
        """The plan was made with these values: they can no longer change."""
        for widget in self.query("Input, Select, Button"):
            widget.disabled = True
