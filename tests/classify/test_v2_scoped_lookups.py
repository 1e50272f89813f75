"""A lookup that loses its scoping to the signed-in user or tenant counts (decision 0029).

THREATS.md G46: ``current_organization.items.find(id)`` becoming ``Item.find(id)`` is an
insecure direct object reference introduced on a line that names nothing identity-related;
``@2`` passed it before, in Rails, Laravel, Django, Node and Go's SQL alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify._v2_scoping import scopings
from tests.classify.test_v2_stages import Lab

RULE = "code.scoped-lookup"


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


RB_PATH = "app/controllers/items_controller.rb"
RB = """\
class ItemsController < ApplicationController
  def show
    @item = current_organization.items.find(params[:id])
    render :show
  end
end
"""
PHP_PATH = "app/Http/Controllers/PostController.php"
PHP = """\
<?php
namespace App\\Http\\Controllers;

class PostController extends Controller
{
    public function show(Request $request, $id)
    {
        $post = $request->user()->posts()->findOrFail($id);
        $drafts = Draft::query()->where('author_id', $request->user()->id)->get();
        return view('posts.show', ['post' => $post, 'drafts' => $drafts]);
    }
}
"""
PY_PATH = "shop/views.py"
PY = """\
def order_detail(request, pk):
    order = request.user.order_set.get(pk=pk)
    return render(request, "order.html", {"order": order})
"""
GO_PATH = "internal/notes/store.go"
GO = """\
package notes

func (s *Store) Get(ctx context.Context, id, uid int64) (*Note, error) {
	q := "SELECT id, body FROM notes WHERE id = $1 AND user_id = $2"
	row := s.db.QueryRowContext(ctx, q, id, uid)
	return scan(row)
}
"""
TS_PATH = "src/routes/docs.ts"
TS = """\
export async function getDoc(ctx: Context) {
  const doc = await Document.findOne({ where: { id: ctx.params.id, userId: ctx.state.user.id } });
  ctx.body = doc;
}
"""


@pytest.mark.parametrize(
    ("path", "source", "edit"),
    [
        (RB_PATH, RB, ("current_organization.items.find", "Item.find")),
        (RB_PATH, RB, ("current_organization.items.find", "Current.user.items.find")),
        (PHP_PATH, PHP, ("$request->user()->posts()->findOrFail", "Post::findOrFail")),
        (PHP_PATH, PHP, ("->where('author_id', $request->user()->id)", "")),
        (PY_PATH, PY, ("request.user.order_set.get", "Order.objects.get")),
        (TS_PATH, TS, (", userId: ctx.state.user.id", "")),
        (GO_PATH, GO, (" AND user_id = $2", "")),
    ],
)
def test_a_lookup_that_loses_its_scoping_counts(
    lab: Lab, path: str, source: str, edit: tuple[str, str]
) -> None:
    assert edit[0] in source
    assert RULE in lab.edited(path, source, source.replace(*edit))


@pytest.mark.parametrize(
    ("path", "source", "edit"),
    [
        # the association renamed under the same principal: still scoped
        (RB_PATH, RB, ("current_organization.items.find", "current_organization.products.find")),
        # a scoping added: narrower, not wider
        (RB_PATH, RB.replace("current_organization.items.find", "Item.find"), ("@", "@")),
        # the line changes, its scoping stays
        (RB_PATH, RB, ("find(params[:id])", "find_by!(id: params[:id])")),
        # the scoped lookup deleted with nothing looked up in its place
        (RB_PATH, RB, ("    @item = current_organization.items.find(params[:id])\n", "")),
    ],
)
def test_a_scoping_kept_added_or_deleted_with_its_lookup_is_not_this_rule(
    lab: Lab, path: str, source: str, edit: tuple[str, str]
) -> None:
    if edit == ("@", "@"):  # add the scoping back instead
        after = source.replace("Item.find", "current_organization.items.find")
    else:
        after = source.replace(*edit)
    assert after != source
    assert RULE not in lab.edited(path, source, after)


def test_a_scoping_kept_only_in_a_comment_is_lost(lab: Lab) -> None:
    """The scoped line commented out beside an unscoped one: comments do not act."""
    after = RB.replace(
        "    @item = current_organization.items.find(params[:id])\n",
        "    # @item = current_organization.items.find(params[:id])\n"
        "    @item = Item.find(params[:id])\n",
    )
    assert RULE in lab.edited(RB_PATH, RB, after)


def test_a_binding_outside_a_query_is_not_a_scoping(lab: Lab) -> None:
    """``organization: current_organization`` passed to a service reads nothing by itself."""
    before = RB.replace(
        "    render :show\n",
        "    Export.new(organization: current_organization).run\n    render :show\n",
    )
    after = before.replace("    Export.new(organization: current_organization).run\n", "")
    assert RULE not in lab.edited(RB_PATH, before, after)


@pytest.mark.parametrize(
    ("line", "keys"),
    [
        ("@item = current_organization.items.find(params[:id])", ["current_organization"]),
        ("@kit = Current.user.kits.find_by!(id: 1)", ["current.user"]),
        ("$q->where('user_id', auth()->id())->get()", ["user_id=auth.id"]),
        ("$p = Auth::user()->posts()->findOrFail($id);", ["auth::user"]),
        ("Order.objects.filter(owner=request.user)", ["owner=request.user"]),
        ("findOne({ where: { userId: ctx.state.user.id } })", ["userid=ctx.state.user"]),
        ('db.Query("SELECT * FROM notes WHERE notes.owner_id = ?", uid)', ["sql:ownerid"]),
        ('cur.execute("select 1 from t where account_id = %s", [a])', ["sql:accountid"]),
        ("name = current_user.name", []),  # an attribute read, no association
        ("Export.new(organization: current_organization)", []),  # not in a query
    ],
)
def test_scopings_are_read_in_each_spelling(line: str, keys: list[str]) -> None:
    assert scopings(line) == keys
