"""Qualification certificates: verification token (QR code) and revocation date; instrument
kinds: verification period 检定周期 in months.

Revision ID: 6e8409d81823
Revises: 14f8cfb38fb4
Create Date: 2026-12-02 02:19:16.384129

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6e8409d81823"
down_revision = "14f8cfb38fb4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instrument_kinds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification_period_months", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            "verification_period_range",
            "verification_period_months IS NULL OR verification_period_months BETWEEN 1 AND 240",
        )

    with op.batch_alter_table("qualification_certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verify_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("revoked_on", sa.Date(), nullable=True))

    # Certificates issued before: a token each; those already revoked keep today as their date.
    conn = op.get_bind()
    certificates = sa.table(
        "qualification_certificates",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("verify_token", sa.String),
        sa.column("revoked_on", sa.Date),
    )
    for (cert_id,) in conn.execute(sa.select(certificates.c.id)).all():
        conn.execute(
            certificates.update()
            .where(certificates.c.id == cert_id)
            .values(verify_token=secrets.token_urlsafe(32))
        )
    conn.execute(
        certificates.update().where(certificates.c.status == "revoked").values(revoked_on=sa.func.current_date())
    )

    with op.batch_alter_table("qualification_certificates", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_qualification_certificates_verify_token"), ["verify_token"])
        batch_op.create_check_constraint(
            "revoked_on_iff_revoked", "(status = 'revoked') = (revoked_on IS NOT NULL)"
        )


def downgrade():
    with op.batch_alter_table("qualification_certificates", schema=None) as batch_op:
        batch_op.drop_constraint("revoked_on_iff_revoked", type_="check")
        batch_op.drop_constraint(batch_op.f("uq_qualification_certificates_verify_token"), type_="unique")
        batch_op.drop_column("revoked_on")
        batch_op.drop_column("verify_token")

    with op.batch_alter_table("instrument_kinds", schema=None) as batch_op:
        batch_op.drop_constraint("verification_period_range", type_="check")
        batch_op.drop_column("verification_period_months")
