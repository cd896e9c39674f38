"""Web forms. Field checks are validation.py's, so the form and the API refuse the same things."""

from __future__ import annotations

from django import forms

from observatory.labs import validation


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, strip=True, help_text="What it is for, e.g. 'release CI'")

    def clean_name(self):
        name = self.cleaned_data["name"]
        if any(ch.isspace() and ch != " " for ch in name) or not name.isprintable():
            raise forms.ValidationError("use printable characters only")
        return name


class SubmissionForm(forms.Form):
    hub_id = forms.CharField(label="Hub model id", max_length=validation.MAX_HUB_ID, strip=True,
                             widget=forms.TextInput(attrs={"placeholder": "namespace/name", "size": 50}))
    revision = forms.CharField(max_length=validation.MAX_REVISION, required=False, strip=True,
                               help_text="Branch, tag or commit; empty means main. Pinned to a commit on acceptance.")
    probes = forms.MultipleChoiceField(choices=[(p, p) for p in validation.PROBES], initial=["tooling"],
                                       widget=forms.CheckboxSelectMultiple)
    benchmark_limit = forms.IntegerField(required=False, min_value=1, max_value=10_000,
                                         help_text="Benchmark only: items per kind (empty = the full item set)")
    visibility = forms.ChoiceField(choices=[("private", "Private to my lab until I publish it"),
                                            ("public", "Public now")], initial="private",
                                   widget=forms.RadioSelect)
    access_token = forms.CharField(max_length=validation.MAX_ACCESS_TOKEN, required=False,
                                   widget=forms.PasswordInput(render_value=False),
                                   help_text="Only for gated models: stored encrypted, used for this run only, "
                                             "deleted when it ends.")

    def as_request_data(self) -> dict:
        data = self.cleaned_data
        config = {}
        if data.get("benchmark_limit") and "benchmark" in data["probes"]:
            config["benchmark"] = {"limit": data["benchmark_limit"]}
        return {
            "hub_id": data["hub_id"],
            "revision": data.get("revision", ""),
            "probes": list(data["probes"]),
            "visibility": data["visibility"],
            "access_token": data.get("access_token", ""),
            "config": config,
        }
