"""``@2``'s guard-flow: an exit inside a nested function leaves that function only.

A function that registers handlers (outline's ``commentTools(server, scopes)``) holds the
checks that decide which handlers are registered, and each handler holds its own. ``@1`` read
an edit inside one handler as a change "above" the next handler's checks (outline
e737968365c7, 03ec96fd913c, 2e2291247787; decision 0031). ``@2`` counts the enclosing
function's checks only through a channel from the nested function: its value, an exception,
a name both read, a Ruby block, a line that moved (THREATS.md G45: each one still fires).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.classify import RULESET_V1, Classifier
from tests.classify.test_v2_stages import Lab

V2 = Classifier.build()
V1 = Classifier.build(rulesets=[RULESET_V1])
GUARD = "code.guard-flow"

TOOLS = """export function commentTools(server: McpServer, scopes: string[]) {
  if (AuthenticationHelper.canAccess("comments.create", scopes)) {
    server.registerTool("create_comment", { title: "Create" },
      async ({ documentId, text }, context) => {
      const { user } = context;
      const document = await Document.findByPk(documentId);
      if (!document.state) {
        return error("empty");
      }
      return success(await Comment.create({ text, documentId, userId: user.id }));
    });
  }

  if (AuthenticationHelper.canAccess("comments.update", scopes)) {
    server.registerTool("update_comment", { title: "Update" },
      async ({ id, text }, context) => {
      const { user } = context;
      const comment = await Comment.findByPk(id);
      if (comment.userId !== user.id) {
        throw new ForbiddenError();
      }
      return success(await comment.update({ text }));
    });
  }
}
"""
VALIDATION = '      if (!document.state) {\n        return error("empty");\n      }\n'


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path / "repo")


def test_an_edit_in_one_handler_is_not_above_the_next_handlers_checks(lab: Lab) -> None:
    """outline e737968365c7: a validation exit removed inside one registered handler."""
    path = "server/tools/comments.ts"
    after = TOOLS.replace(VALIDATION, "")
    assert GUARD not in lab.edited(path, TOOLS, after)
    assert GUARD in lab.edited(path, TOOLS, after, V1)  # @1 is pinned as it was


def test_lines_reordered_inside_one_handler_do_not_outrun_the_next(lab: Lab) -> None:
    """outline 03ec96fd913c: lines that moved inside a handler stay behind its end."""
    path = "server/tools/comments.ts"
    user = "      const { user } = context;\n"
    load = "      const document = await Document.findByPk(documentId);\n"
    after = TOOLS.replace(user + load, load + user, 1)
    assert after != TOOLS
    assert GUARD not in lab.edited(path, TOOLS, after)
    assert GUARD in lab.edited(path, TOOLS, after, V1)


def test_a_check_in_the_edited_handler_still_counts(lab: Lab) -> None:
    """THREATS.md G45: an exit added above the handler's own check."""
    path = "server/tools/comments.ts"
    early = "      const comment = await Comment.findByPk(id);\n"
    after = TOOLS.replace(early, early + "      if (text) return success(comment);\n")
    assert GUARD in lab.edited(path, TOOLS, after)


HANDLER = """export async function show(ctx) {
  const { user } = ctx.state.auth;
  let allowed = false;
  const docs = await Document.findAll();
BODY
  if (!allowed) {
    throw new ForbiddenError();
  }
  ctx.body = docs;
}
"""


@pytest.mark.parametrize(
    ("body", "edited"),
    [
        pytest.param(  # the nested function's value is the decision
            "  allowed = docs.some((d) => {\n    return d.public;\n  });\n",
            "  allowed = docs.some((d) => {\n    return true;\n  });\n",
            id="value",
        ),
        pytest.param(  # a closure's flag, read by the check below
            "  docs.forEach((d) => {\n    if (d.public) {\n      allowed = true;\n    }\n  });\n",
            "  docs.forEach((d) => {\n    if (d.public || d.draft) {\n      allowed = true;\n"
            "    }\n  });\n",
            id="closure",
        ),
        pytest.param(  # an exception leaves the enclosing function too
            "  docs.forEach((d) => {\n    d.touch();\n  });\n",
            "  docs.forEach((d) => {\n    if (d.locked) throw new LockedError(d);\n    d.touch();\n"
            "  });\n",
            id="raise",
        ),
    ],
)
def test_a_channel_out_of_the_nested_function_keeps_the_check(
    lab: Lab, body: str, edited: str
) -> None:
    """THREATS.md G45: what the nested function returns, sets or throws reaches the check."""
    path = "server/routes/documents.ts"
    before = HANDLER.replace("BODY\n", body)
    after = HANDLER.replace("BODY\n", edited)
    assert GUARD in lab.edited(path, before, after)


RUBY = """class DocumentsController < ApplicationController
  def show
    @document = Document.find(params[:id])
    @document.items.each do |item|
      item.touch
    end
    authorize! :read, @document
    render :show
  end
end
"""


def test_a_ruby_block_is_no_frame(lab: Lab) -> None:
    """THREATS.md G45: ``return`` in a block leaves the method, before ``authorize!``."""
    path = "app/controllers/documents_controller.rb"
    after = RUBY.replace("      item.touch\n", "      return render(:show) if item.public\n")
    assert GUARD in lab.edited(path, RUBY, after)


def test_a_line_moved_into_a_nested_function_still_outruns(lab: Lab) -> None:
    """THREATS.md G45: the response moved into a callback that runs before the check."""
    path = "server/routes/documents.ts"
    before = HANDLER.replace("BODY\n", "  docs.forEach((d) => {\n    d.touch();\n  });\n")
    after = HANDLER.replace(
        "BODY\n", "  docs.forEach((d) => {\n    d.touch();\n    ctx.body = docs;\n  });\n"
    ).replace("  }\n  ctx.body = docs;\n", "  }\n")
    assert "ctx.body = docs;\n}" not in after
    assert GUARD in lab.edited(path, before, after)
