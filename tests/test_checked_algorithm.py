"""CheckedOffPolicyAlgorithm: SB3's learn loop, copied for one comparison, stays pinned to the installed SB3."""

import ast
import inspect
import textwrap

from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from sb3_cartdqn import CartDQN
from sb3_cartdqn.common.checked_algorithm import CheckedOffPolicyAlgorithm


def _body(function) -> list[ast.stmt]:
    """The function's statements without its docstring (comments and type-ignore markers are not in the AST)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


class _LearningStartToSB3(ast.NodeTransformer):
    """Turns the copy's ``num_timesteps >= self.learning_starts`` back into SB3's ``>``, counting the changes."""

    def __init__(self) -> None:
        self.changed = 0

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], ast.GtE)
            and isinstance(node.comparators[0], ast.Attribute)
            and node.comparators[0].attr == "learning_starts"
        ):
            node.ops = [ast.Gt()]
            self.changed += 1
        return node


def test_learn_is_sb3_loop_but_for_the_learning_start():
    """Fails when SB3's ``OffPolicyAlgorithm.learn`` changes: then re-copy it and keep only the ``>=``."""
    ours = _body(CheckedOffPolicyAlgorithm.learn)
    to_sb3 = _LearningStartToSB3()
    ours = [to_sb3.visit(statement) for statement in ours]
    assert to_sb3.changed == 1
    assert [ast.dump(s) for s in ours] == [ast.dump(s) for s in _body(OffPolicyAlgorithm.learn)], (
        "SB3's OffPolicyAlgorithm.learn changed: copy it again into CheckedOffPolicyAlgorithm.learn, with `>=` for "
        "the learning start"
    )


def test_first_gradient_step_at_learning_starts():
    """The tutorial optimises once the buffer holds a batch: at num_timesteps == learning_starts (SB3 waits one more)."""
    model = CartDQN("MlpPolicy", "CartPole-v1", learning_starts=16, batch_size=16, seed=0, device="cpu")
    model.learn(15)
    assert model._n_updates == 0
    model.learn(1, reset_num_timesteps=False)
    assert model._n_updates == 1


def test_cartdqn_learn_delegates():
    """CartDQN's own learn only names its TensorBoard run, as SB3's DQN does."""
    assert "super().learn(" in inspect.getsource(CartDQN.learn)
    assert issubclass(CartDQN, CheckedOffPolicyAlgorithm)
