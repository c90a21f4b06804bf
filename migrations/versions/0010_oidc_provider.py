"""The OpenID Connect provider: clients, codes, tokens, consents, signing keys, and the
back-channel logout deliveries the worker sends.

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oidc_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('post_logout_redirect_uris', sa.JSON(), nullable=False),
    sa.Column('backchannel_logout_uri', sa.String(length=1000), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('first_party', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('secret_rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oidc_clients_client_id'))
    )
    op.create_table('oidc_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=10), nullable=False),
    sa.Column('private_jwk', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_oidc_keys_kid'))
    )
    op.create_table('oidc_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_clients.id'], name=op.f('fk_oidc_consents_client_pk_oidc_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oidc_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_consents')),
    sa.UniqueConstraint('user_id', 'client_pk', name=op.f('uq_oidc_consents_user_id'))
    )
    with op.batch_alter_table('oidc_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_consents_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_consents_user_id'), ['user_id'], unique=False)

    op.create_table('oidc_logout_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_clients.id'], name=op.f('fk_oidc_logout_deliveries_client_pk_oidc_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_logout_deliveries'))
    )
    with op.batch_alter_table('oidc_logout_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_logout_deliveries_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_logout_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_logout_deliveries_status'), ['status'], unique=False)

    op.create_table('oidc_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('redirect_uri', sa.String(length=1000), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('nonce', sa.String(length=255), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_clients.id'], name=op.f('fk_oidc_codes_client_pk_oidc_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_oidc_codes_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oidc_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oidc_codes_code_hash'))
    )
    with op.batch_alter_table('oidc_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_codes_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_codes_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_codes_user_id'), ['user_id'], unique=False)

    op.create_table('oidc_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=True),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_in', sa.Integer(), nullable=False),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_clients.id'], name=op.f('fk_oidc_tokens_client_pk_oidc_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['code_id'], ['oidc_codes.id'], name=op.f('fk_oidc_tokens_code_id_oidc_codes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_oidc_tokens_session_id_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oidc_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_tokens')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_oidc_tokens_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_oidc_tokens_refresh_token_hash'))
    )
    with op.batch_alter_table('oidc_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_tokens_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_tokens_code_id'), ['code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_tokens_family'), ['family'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_tokens_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oidc_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oidc_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_tokens_session_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_tokens_family'))
        batch_op.drop_index(batch_op.f('ix_oidc_tokens_code_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_tokens_client_pk'))

    op.drop_table('oidc_tokens')
    with op.batch_alter_table('oidc_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_codes_user_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_codes_session_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_codes_client_pk'))

    op.drop_table('oidc_codes')
    with op.batch_alter_table('oidc_logout_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_logout_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_oidc_logout_deliveries_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_oidc_logout_deliveries_client_pk'))

    op.drop_table('oidc_logout_deliveries')
    with op.batch_alter_table('oidc_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_consents_user_id'))
        batch_op.drop_index(batch_op.f('ix_oidc_consents_client_pk'))

    op.drop_table('oidc_consents')
    op.drop_table('oidc_keys')
    op.drop_table('oidc_clients')
