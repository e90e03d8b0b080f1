"""统计分析: a covering index for instrument counts by division, status and expiry

Revision ID: 5e1a7c0d9b21
Revises: 27c24fddd583
Create Date: 2026-12-01 23:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5e1a7c0d9b21"
down_revision = "27c24fddd583"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_instruments_division_status_valid",
            ["usage_division_code", "status", "valid_until"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_index("ix_instruments_division_status_valid")
