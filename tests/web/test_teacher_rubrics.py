"""The rubric editor: list, clone, create, edit (every save a new immutable version), validation next to the field,
"Try it", YAML import and export, and the form <-> YAML round trip."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from app.rubric import load_rubric, parse_rubric
from app.web.extensions import db
from app.web.models import ImmutableRow, RubricRecord, RubricVersion
from app.web.rubric_form import build, form_values, to_yaml
from app.web.rubric_store import stamp_yaml

from .support import ROOT, RUBRIC
from .teacher_support import editor_fields, form_fields, post, teacher_client, token

RUBRIC_FILES = [ROOT / "rubrics" / f"{RUBRIC}.yaml", *sorted((ROOT / "rubrics" / "examples").glob("*.yaml")), ROOT / "tests/data/rubrics/mini.yaml"]


def clone(client, slug: str = "my-rubric", source: str = RUBRIC, **changes: str):
    fields = editor_fields(client, f"/teacher/rubrics/new?from={source}")
    fields["slug"] = slug
    for k, v in changes.items():
        fields[k] = v
    return post(client, "/teacher/rubrics/new", fields)


def versions(app, slug: str) -> list[RubricVersion]:
    with app.app_context():
        record = db.session.query(RubricRecord).filter_by(slug=slug).one()
        out = list(record.versions)
        for v in out:
            db.session.expunge(v)
        return out


@pytest.mark.parametrize("path", RUBRIC_FILES, ids=lambda p: p.stem)
def test_every_rubric_file_survives_the_form_unchanged(path: Path):
    original = load_rubric(path)
    values = form_values(yaml.safe_load(path.read_text(encoding="utf-8")))
    for sid in ("judgement", "counter_argument", "evidence", "explanation", "focus"):
        values[f"skills-{sid}-shown"] = "1"
    built = build(values, slug=original.id, version=original.version)
    assert built.errors == {}
    assert parse_rubric(to_yaml(built.data)).model_dump() == original.model_dump()


def test_the_list_shows_rubric_files_and_my_own(app):
    client = teacher_client(app)
    page = client.get("/teacher/rubrics/").get_data(as_text=True)
    assert "Soviet centralisation of power, 1921-1929" in page and "Rubric file" in page
    assert "broken" not in page  # an invalid file is left out
    assert clone(client).status_code == 303
    page = client.get("/teacher/rubrics/").get_data(as_text=True)
    assert "my-rubric" in page and "Yours" in page


def test_clone_prefills_every_concept_and_a_free_id(app):
    client = teacher_client(app)
    page = client.get(f"/teacher/rubrics/new?from={RUBRIC}").get_data(as_text=True)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    rubric = load_rubric(ROOT / "rubrics" / f"{RUBRIC}.yaml")
    assert fields["slug"] == f"{RUBRIC}-copy" and fields["title"].endswith("(copy)")
    assert [fields[f"concepts-{i}-label"] for i in range(len(rubric.concepts))] == [c.label for c in rubric.concepts]
    assert 'id="try-button"' in page and 'data-try-url="/teacher/rubrics/try.json"' in page
    assert '<script src="/static/js/rubric-editor.js" defer></script>' in page
    clone(client, slug=f"{RUBRIC}-copy")
    assert editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")["slug"] == f"{RUBRIC}-copy-2"


def test_create_stores_version_one_with_its_id_and_version(app):
    client = teacher_client(app)
    response = clone(client, note="for 10B")
    assert response.status_code == 303 and response.headers["Location"] == "/teacher/rubrics/my-rubric?saved=1"
    [v1] = versions(app, "my-rubric")
    rubric = parse_rubric(v1.yaml)
    assert (rubric.id, rubric.version, v1.version, v1.note) == ("my-rubric", 1, 1, "for 10B")
    assert "Saved as version 1" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_every_save_is_a_new_version_and_old_versions_never_change(app):
    client = teacher_client(app)
    clone(client)
    [v1] = versions(app, "my-rubric")
    fields = editor_fields(client, "/teacher/rubrics/my-rubric/edit")
    fields["concepts-0-label"] = "Centralisation (renamed)"
    response = post(client, "/teacher/rubrics/my-rubric/edit", fields)
    assert response.status_code == 303 and "saved=2" in response.headers["Location"]
    first, second = versions(app, "my-rubric")
    assert first.yaml == v1.yaml and first.digest == v1.digest  # untouched
    assert parse_rubric(second.yaml).concepts[0].label == "Centralisation (renamed)" and parse_rubric(second.yaml).version == 2
    # saving again without a change makes no new version
    assert post(client, "/teacher/rubrics/my-rubric/edit", editor_fields(client, "/teacher/rubrics/my-rubric/edit")).status_code == 303
    assert len(versions(app, "my-rubric")) == 2
    # and a stored version cannot be updated, even by code that tries
    with app.app_context():
        row = db.session.get(RubricVersion, first.id)
        row.yaml = "tampered"
        with pytest.raises(ImmutableRow):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(RubricVersion, first.id).yaml == v1.yaml


def test_validation_errors_are_shown_next_to_the_field_and_nothing_is_saved(app):
    client = teacher_client(app)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["slug"] = "bad-one"
    fields["concepts-1-label"] = ""
    fields["concepts-2-weight"] = "heavy"
    fields["levels-1-marks_low"] = "30"
    fields["concepts-3-paraphrases"] = "{all: [[power]]}"
    response = post(client, "/teacher/rubrics/new", fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Not saved" in page
    for name, words in [("concepts-1-label", "at least 1 character"), ("concepts-2-weight", "valid number"), ("concepts-3-paraphrases", "line 1: all:")]:
        slot = page.split(f'data-error-for="{name}"')[1].split("</div>")[0]
        assert words in slot, (name, slot)
        assert f'id="f-{name}"' in page and 'aria-invalid="true"' in page.split(f'id="f-{name}"')[1].split(">")[0]
    assert "run backwards" in page.split('data-error-for="levels-1-marks_high"')[1].split("</div>")[0]
    assert "bad-one" not in client.get("/teacher/rubrics/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(RubricRecord).filter_by(slug="bad-one").count() == 0


def test_a_bad_token_pattern_is_reported_on_its_line(app):
    client = teacher_client(app)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["slug"] = "patterns"
    fields["concepts-0-token_patterns"] = "[{LOWER: stalin}]\n\n[{FOO: bar}]"
    page = post(client, "/teacher/rubrics/new", fields).get_data(as_text=True)
    slot = page.split('data-error-for="concepts-0-token_patterns"')[1].split("</div>")[0]
    assert "line 3: invalid token pattern" in slot
    fields["concepts-0-token_patterns"] = "[{LOWER: stalin}"
    page = post(client, "/teacher/rubrics/new", fields).get_data(as_text=True)
    assert "line 1:" in page.split('data-error-for="concepts-0-token_patterns"')[1].split("</div>")[0]


def test_the_id_must_be_free_and_well_formed(app):
    client = teacher_client(app)
    taken = clone(client, slug=RUBRIC)
    assert taken.status_code == 409 and "is the id of a rubric file" in taken.get_data(as_text=True)
    clone(client, slug="mine")
    again = clone(client, slug="mine")
    assert again.status_code == 409 and "already a rubric called" in again.get_data(as_text=True)
    bad = clone(client, slug="Not An Id!")
    assert bad.status_code == 400 and "Use lower-case letters" in bad.get_data(as_text=True)
    reserved = clone(client, slug="import")  # /teacher/rubrics/import is a page, not a rubric
    assert reserved.status_code == 409 and "a word the pages use" in reserved.get_data(as_text=True)


def test_adding_rows_works_without_javascript(app):
    client = teacher_client(app)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    n = len([k for k in fields if k.endswith("-label") and k.startswith("concepts-")])
    fields["action"] = "add-concepts"
    page = post(client, "/teacher/rubrics/new", fields).get_data(as_text=True)
    assert page.count('class="row-card concept-row"') == n + 1 + 1  # + the new row + the <template> for scripts


def test_removing_a_concept(app):
    client = teacher_client(app)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["slug"] = "fewer"
    fields["concepts-0-remove"] = "1"
    assert post(client, "/teacher/rubrics/new", fields).status_code == 303
    [v] = versions(app, "fewer")
    assert parse_rubric(v.yaml).concepts[0].id == "politburo"


def test_a_rubric_from_scratch(app):
    client = teacher_client(app)
    fields = editor_fields(client, "/teacher/rubrics/new")
    for key, value in {"slug": "scratch", "title": "Causes of the First World War", "subject": "History",
                   "questions": "Why did war break out in 1914?", "concepts-0-id": "alliances", "concepts-0-label": "The alliance system",
                   "concepts-0-why": "It turned a local crisis into a general war.", "concepts-0-phrases": "alliance system\ntriple entente"}.items():
        fields[key] = value  # MultiDict.update would add a second value
    response = post(client, "/teacher/rubrics/new", fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    [v] = versions(app, "scratch")
    rubric = parse_rubric(v.yaml)
    assert rubric.title == "Causes of the First World War" and rubric.concepts[0].phrases == ["alliance system", "triple entente"]


def test_try_it_shows_what_matches_before_saving(app):
    client = teacher_client(app)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["concepts-99-id"], fields["concepts-99-label"] = "war_communism", "War Communism"
    fields["concepts-99-why"], fields["concepts-99-phrases"] = "It centralised the economy.", "war communism"
    fields["sample"] = "War Communism gave the party control. The Politburo <b>decided</b> everything."
    data = post(client, "/teacher/rubrics/try.json", fields).get_json()
    assert data["ok"] is True
    found = {c["label"]: c for c in data["concepts"] if c["state"] != "missing"}
    assert found["War Communism"]["matched"] == ["War Communism"] and found["War Communism"]["number"] == len(data["concepts"])
    assert "The Politburo" in found
    assert '<mark class="hl' in data["html"] and "&lt;b&gt;decided&lt;/b&gt;" in data["html"] and "<b>" not in data["html"]
    with app.app_context():  # nothing was saved
        assert db.session.query(RubricRecord).count() == 0


def test_try_it_reports_problems_by_field(app):
    client = teacher_client(app)
    fields = editor_fields(client, f"/teacher/rubrics/new?from={RUBRIC}")
    fields["concepts-0-why"] = ""
    fields["sample"] = "The Politburo decided."
    data = post(client, "/teacher/rubrics/try.json", fields).get_json()
    assert data["ok"] is False and "at least 1 character" in data["errors"]["concepts-0-why"][0]
    fields["concepts-0-why"] = "Restored."
    fields["sample"] = ""
    data = post(client, "/teacher/rubrics/try.json", fields).get_json()
    assert data["ok"] is True and data["empty"] is True


def test_export_and_import_yaml(app):
    client = teacher_client(app)
    clone(client)
    exported = client.get("/teacher/rubrics/my-rubric/v1.yaml")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"] == 'attachment; filename="my-rubric-v1.yaml"'
    file_export = client.get(f"/teacher/rubrics/files/{RUBRIC}.yaml")
    assert file_export.get_data(as_text=True) == (ROOT / "rubrics" / f"{RUBRIC}.yaml").read_text(encoding="utf-8")
    form = {"csrf_token": token(client, "/teacher/rubrics/import"), "slug": "imported",
            "file": (io.BytesIO(exported.data), "my-rubric-v1.yaml")}
    response = client.post("/teacher/rubrics/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 303
    [v] = versions(app, "imported")
    assert parse_rubric(v.yaml).model_dump(exclude={"id"}) == parse_rubric(exported.get_data(as_text=True)).model_dump(exclude={"id"})
    assert v.note == "imported from my-rubric-v1.yaml"


def test_import_keeps_comments_and_reports_problems_with_lines(app):
    client = teacher_client(app)
    text = (ROOT / "rubrics" / f"{RUBRIC}.yaml").read_text(encoding="utf-8")
    csrf = token(client, "/teacher/rubrics/import")
    ok = client.post("/teacher/rubrics/import", data={"csrf_token": csrf, "slug": "with-comments", "file": (io.BytesIO(text.encode()), "r.yaml")},
                     content_type="multipart/form-data")
    assert ok.status_code == 303
    [v] = versions(app, "with-comments")
    assert "# LEVEL THRESHOLDS" in v.yaml and v.yaml.startswith("# EssayCoach default rubric")
    broken = text.replace("    label: The Politburo\n", "    lable: The Politburo\n")
    bad = client.post("/teacher/rubrics/import", data={"csrf_token": csrf, "slug": "broken-import", "file": (io.BytesIO(broken.encode()), "r.yaml")},
                      content_type="multipart/form-data")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "unknown field" in page and "line " in page and "concepts[1].lable" in page
    latin = client.post("/teacher/rubrics/import", data={"csrf_token": csrf, "file": (io.BytesIO("title: caf\xe9".encode("latin-1")), "r.yaml")},
                        content_type="multipart/form-data")
    assert latin.status_code == 400 and "not UTF-8" in latin.get_data(as_text=True)


def test_edit_as_yaml_makes_a_new_version_or_shows_the_problems(app):
    client = teacher_client(app)
    clone(client)
    page = client.get("/teacher/rubrics/my-rubric/yaml").get_data(as_text=True)
    fields = form_fields(page.split("<main")[1])
    text, csrf = fields["yaml"], fields["csrf_token"]
    assert "id: my-rubric" in text and 'name="yaml"' in page
    bad = client.post("/teacher/rubrics/my-rubric/yaml", data={"csrf_token": csrf, "yaml": text.replace("version: 1", "version: 1\nnonsense: 3")})
    assert bad.status_code == 400 and "nonsense" in bad.get_data(as_text=True)
    assert len(versions(app, "my-rubric")) == 1
    good = client.post("/teacher/rubrics/my-rubric/yaml", data={"csrf_token": csrf, "yaml": text.replace("title: ", "title: Renamed ", 1)})
    assert good.status_code == 303 and len(versions(app, "my-rubric")) == 2


def test_stamp_yaml_sets_id_and_version_and_keeps_the_rest():
    text = "# a comment\nid: old\ntitle: T\nversion: 7\nsubject: S\n"
    assert stamp_yaml(text, "new", 3) == "# a comment\nid: new\ntitle: T\nversion: 3\nsubject: S\n"
    assert stamp_yaml("title: T\n", "x", 1) == "id: x\nversion: 1\ntitle: T\n"
