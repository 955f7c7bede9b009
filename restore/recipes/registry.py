"""The recipe for a system, by its kind: only the three allowlisted ones."""

from __future__ import annotations

from restore.errors import UnsafeValue
from restore.recipes import Recipe, TargetSpec
from restore.recipes.files import FilesRecipe
from restore.recipes.mariadb import MariaDBRecipe
from restore.recipes.postgresql import PostgreSQLRecipe


def recipe_for(spec: TargetSpec) -> Recipe:
    """The recipe for the system; anything but the three allowlisted kinds is refused."""
    recipes: dict[str, type[MariaDBRecipe] | type[PostgreSQLRecipe] | type[FilesRecipe]] = {
        "mariadb": MariaDBRecipe, "postgresql": PostgreSQLRecipe, "files": FilesRecipe}
    if spec.recipe not in recipes:
        raise UnsafeValue(f"Resep restore {spec.recipe!r} tidak diizinkan.")
    return recipes[spec.recipe](spec)


def streams(recipe: str, name: str) -> bool:
    """Whether a file of this kind flows straight into its import (else it is staged on
    the target first: only a PostgreSQL custom-format dump, see PostgreSQLRecipe)."""
    return not (recipe == "postgresql" and PostgreSQLRecipe.custom(name))
