"""unit invoicing, member type, contact position; audit field changes

Organizations gain 联系人职务, 会员性质 and the 开票信息 of seed 004 §3.2.1; audit events gain the
fields a change touched (old → new, personal values masked).

Revision ID: 3f05a824396b
Revises: b3f1c2d4e5a6
Create Date: 2026-12-02 02:20:45.739121

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f05a824396b'
down_revision = 'b3f1c2d4e5a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_position', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('member_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('taxpayer_id', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('taxpayer_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('tax_address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('tax_phone', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('bank_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=30), nullable=True))
        batch_op.create_check_constraint(
            'member_type_known', "member_type IS NULL OR member_type IN ('member', 'non_member')"
        )


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organizations_member_type_known'), type_='check')
        batch_op.drop_column('bank_account')
        batch_op.drop_column('bank_name')
        batch_op.drop_column('tax_phone')
        batch_op.drop_column('tax_address')
        batch_op.drop_column('taxpayer_name')
        batch_op.drop_column('taxpayer_id')
        batch_op.drop_column('member_type')
        batch_op.drop_column('contact_position')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('changes')
