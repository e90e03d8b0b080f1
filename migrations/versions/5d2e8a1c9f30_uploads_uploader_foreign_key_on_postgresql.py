"""uploads.uploaded_by_id → users.id on PostgreSQL

The initial schema declared this foreign key with use_alter=True inside create_table: Alembic
then leaves it out of the CREATE TABLE and never adds it, so PostgreSQL databases have no such
constraint (SQLite writes it inline). Added where it is missing.

Revision ID: 5d2e8a1c9f30
Revises: 3f05a824396b
Create Date: 2026-12-02 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e8a1c9f30'
down_revision = '3f05a824396b'
branch_labels = None
depends_on = None

NAME = 'fk_uploads_uploaded_by_id_users'


def _missing(bind) -> bool:
    return all(fk['name'] != NAME for fk in sa.inspect(bind).get_foreign_keys('uploads'))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite' and _missing(bind):
        # An uploader whose account is gone (nothing stopped deleting it here) is forgotten first.
        op.execute(
            'UPDATE uploads SET uploaded_by_id = NULL WHERE uploaded_by_id IS NOT NULL '
            'AND uploaded_by_id NOT IN (SELECT id FROM users)'
        )
        op.create_foreign_key(NAME, 'uploads', 'users', ['uploaded_by_id'], ['id'])


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite' and not _missing(bind):
        op.drop_constraint(NAME, 'uploads', type_='foreignkey')
