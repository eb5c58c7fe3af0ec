"""accounts"""
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL)")
    op.execute("INSERT INTO accounts (name) VALUES ('ada'), ('grace'), ('linus')")


def downgrade():
    op.execute("DROP TABLE accounts")
