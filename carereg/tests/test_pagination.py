"""The one pagination include every paged list uses (templates/_pagination.html)."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def _render(page_number: int, per_page: int = 2, **extra) -> str:
    request = RequestFactory().get("/list/", {"clinic": "3", "page": page_number})
    page = Paginator(list(range(5)), per_page).get_page(page_number)
    return render_to_string("_pagination.html", {"page": page, **extra}, request=request)


def test_a_middle_page_links_both_ways_keeping_the_filters():
    html = _render(2)
    assert 'aria-label="Pages"' in html and "Page 2 of 3" in html
    assert 'href="?clinic=3&amp;page=1">Previous' in html
    assert 'href="?clinic=3&amp;page=3">Next' in html


def test_a_list_names_its_pages_and_a_single_page_shows_no_pager():
    named = _render(1, pages_label="Caseload pages", nav_class="mt-2")
    assert '<nav aria-label="Caseload pages" class="mt-2">' in named
    assert "Previous" not in _render(1) and "pagination" not in _render(1, per_page=10)
