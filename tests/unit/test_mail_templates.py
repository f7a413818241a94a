"""Mail templates: checked when saved (the error names the line), rendered in a sandbox that keeps Python's
internals out of reach, HTML autoescaped, undefined variables an error."""

import pytest

from throughline_platform.mail.templates import MAX_REPEAT, MailTemplate, TemplateProblem, Variables, check

CRM_VARIABLES: Variables = {
    "contact": {"first_name": None, "last_name": None, "email": None},
    "company": {"name": None},
    "deal": {"title": None, "amount": None, "currency": None, "owner": {"name": None}},
    "owner": {"name": None, "email": None},
}

CONTEXT = {
    "contact": {"first_name": "Ann", "last_name": "Lee", "email": "ann@client.example"},
    "company": {"name": "Lee & <Sons>"},
    "deal": {"title": "Website", "amount": "12000.00", "currency": "EUR", "owner": {"name": "Bo"}},
    "owner": {"name": "Bo Sales", "email": "bo@studio.example"},
}


def test_a_good_template_passes_the_check_and_renders_every_part() -> None:
    template = MailTemplate(
        subject="{{ deal.title }}\nfor {{ company.name }}",
        text="Hi {{ contact.first_name }},\n{% for n in range(2) %}{{ n }}{% endfor %} {{ company['name'] }}\n",
        html="<p>Hi {{ contact.first_name }} from {{ company.name }}</p>{{ owner.name|upper }}",
    )
    template.check(CRM_VARIABLES)
    rendered = template.render(CONTEXT)
    assert rendered.subject == "Website for Lee & <Sons>"  # one line, not escaped: a subject is not HTML
    assert rendered.text == "Hi Ann,\n01 Lee & <Sons>\n"  # text is not escaped either
    assert rendered.html == "<p>Hi Ann from Lee &amp; &lt;Sons&gt;</p>BO SALES"  # HTML is


@pytest.mark.parametrize(("source", "line", "names"), [
    ("Hello\n{{ contact.first_name }}\n{{ unknown_thing }}", 3, "unknown variable 'unknown_thing'"),
    ("Hello\n\n\n{{ contact.frist_name }}", 4, "unknown variable 'contact.frist_name'"),
    ("Hello\n{{ deal.owner.nmae }}", 2, "unknown variable 'deal.owner.nmae'"),
    ("{{ company['nme'] }}", 1, "unknown variable 'company.nme'"),
    ("one\ntwo\n{% if contact.first_name %}\n{% endfor %}", 4, "endfor"),  # does not compile
    ("one\n{{ contact.email|no_such_filter }}", 2, "no_such_filter"),  # compiles only with known filters
    ("one\n{{ ''.__class__ }}", 2, "'__class__' is not allowed"),
    ("{% for line in [contact] %}\n{{ line._secret }}{% endfor %}", 2, "'_secret' is not allowed"),
    ("{{ contact.email }}\n{{ contact|attr('__dict__') }}", 2, "'__dict__' is not allowed"),
])
def test_a_bad_template_is_refused_naming_its_line(source: str, line: int, names: str) -> None:
    with pytest.raises(TemplateProblem) as refused:
        check(source, CRM_VARIABLES, part="html")
    assert refused.value.line == line
    assert names in refused.value.message
    assert f"html, line {line}: " in str(refused.value)


def test_variables_the_template_defines_itself_are_not_unknown() -> None:
    check("{% set greeting = 'Hi' %}{{ greeting }} {% for c in [contact] %}{{ c.anything }}{% endfor %}"
          "{% macro sign(who) %}{{ who }}{% endmacro %}{{ sign(owner.name) }}", CRM_VARIABLES, part="text")


def test_the_part_is_named_too() -> None:
    with pytest.raises(TemplateProblem) as refused:
        MailTemplate(subject="{{ deal.title }}", text="fine", html="<p>\n{{ nope }}</p>").check(CRM_VARIABLES)
    assert (refused.value.part, refused.value.line) == ("html", 2)


def test_rendering_without_a_variable_is_an_error_not_an_empty_string() -> None:
    template = MailTemplate(subject="s", text="line one\n{{ contact.first_name }} {{ contact.middle_name }}")
    with pytest.raises(TemplateProblem) as refused:
        template.render(CONTEXT)
    assert refused.value.part == "text"
    assert refused.value.line == 2
    assert "middle_name" in refused.value.message


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ contact.__class__ }}",
    "{{ ''|attr('__class__') }}",
    "{{ contact|attr('__class__') }}",
    "{{ '{0.__class__}'.format(contact) }}",
    "{{ '%s'.__mod__ }}",
    "{{ range.__self__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ [].append(1) }}",
    "{{ contact.update({'x': 1}) }}",
    "{{ 'x' * 1000000000 }}",
    "{{ ['x'] * 1000000000 }}",
    "{{ 9 ** 999999999 }}",
    "{{ 1 / 0 }}",
    "{% for i in range(100000000) %}{% endfor %}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_templates_cannot_reach_python_internals(source: str) -> None:
    # Rendered without the check (as if it had been stored some other way): the sandbox itself refuses, and what
    # it says names nothing of what lies behind.
    with pytest.raises(TemplateProblem) as refused:
        MailTemplate(subject="s", text=source).render(CONTEXT)
    message = str(refused.value)
    for leak in ("<class", "<module", "<function", "<built-in", "{'", "object at 0x"):
        assert leak not in message, message


@pytest.mark.parametrize("source", [s for s in ESCAPES if "__" in s and ".format" not in s])
def test_the_check_refuses_the_escapes_before_they_are_saved(source: str) -> None:
    with pytest.raises(TemplateProblem):
        check(source, {**CRM_VARIABLES, "self": None}, part="text")


def test_repetition_is_allowed_up_to_its_bound() -> None:
    rendered = MailTemplate(subject="s", text="{{ '-' * 40 }}{{ 2 ** 10 }}").render({})
    assert rendered.text == "-" * 40 + "1024"
    with pytest.raises(TemplateProblem):
        MailTemplate(subject="s", text=f"{{{{ 'ab' * {MAX_REPEAT} }}}}").render({})
