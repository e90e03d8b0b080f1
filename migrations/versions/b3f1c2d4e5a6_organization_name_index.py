"""Public queries: an index on organizations.name (exact enterprise name or USCC lookups)

Revision ID: b3f1c2d4e5a6
Revises: 6e8409d81823
Create Date: 2026-12-02 02:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b3f1c2d4e5a6"
down_revision = "6e8409d81823"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index("ix_organizations_name", ["name"], unique=False)


def downgrade():
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index("ix_organizations_name")
