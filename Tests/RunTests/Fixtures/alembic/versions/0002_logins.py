"""logins refer to accounts (a foreign key: what `pg_restore --clean` cannot drop its way past)"""
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    op.execute("CREATE TABLE logins (id serial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), at timestamptz DEFAULT now())")
    op.execute("INSERT INTO logins (account_id) SELECT id FROM accounts")


def downgrade():
    op.execute("DROP TABLE logins")
