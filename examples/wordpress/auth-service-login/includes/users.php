<?php
/**
 * Readers as WordPress users, keyed by the service's `sub`, never by email.
 *
 * The first sign-in creates the user (the role from the settings) or links the
 * WordPress user who already has that address, only when the service says the
 * address is verified: otherwise anyone who typed someone else's address on
 * the service would get into their WordPress account.
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

const SUB_META = 'auth_service_sub';
const PICTURE_META = 'auth_service_picture';

function user_by_sub( string $sub ): ?\WP_User {
	$users = get_users( array(
		'meta_key'    => SUB_META, // phpcs:ignore WordPress.DB.SlowDBQuery -- one indexed lookup per sign-in
		'meta_value'  => $sub, // phpcs:ignore WordPress.DB.SlowDBQuery
		'number'      => 1,
		'count_total' => false,
	) );
	return $users ? $users[0] : null;
}

/**
 * The WordPress user for these claims (verified ID token, then userinfo), created or linked
 * on the first sign-in. Returns a WP_Error whose message a reader can act on.
 */
function user_for( array $claims ) {
	$sub = $claims['sub'];
	$email = is_string( $claims['email'] ?? null ) ? sanitize_email( $claims['email'] ) : '';
	$verified = true === ( $claims['email_verified'] ?? false ) && is_email( $email );
	$user = user_by_sub( $sub );
	if ( ! $user && '' !== $email && email_exists( $email ) ) {
		$existing = get_user_by( 'email', $email );
		if ( ! $verified ) {
			return new \WP_Error( 'auth_service_unverified', 'This site already has an account with your email address. Confirm the address on the sign-in service (follow the link it emailed you), then sign in again.' );
		}
		if ( '' !== (string) get_user_meta( $existing->ID, SUB_META, true ) ) {
			return new \WP_Error( 'auth_service_taken', 'This site\'s account with your email address belongs to another sign-in. Ask the site\'s administrator.' );
		}
		update_user_meta( $existing->ID, SUB_META, $sub );
		$user = $existing;
	}
	if ( ! $user ) {
		$user = create_user( $sub, $verified ? $email : '', $claims );
		if ( is_wp_error( $user ) ) {
			return $user;
		}
	}
	$picture = is_string( $claims['picture'] ?? null ) ? esc_url_raw( $claims['picture'], array( 'https', 'http' ) ) : '';
	update_user_meta( $user->ID, PICTURE_META, $picture );
	return $user;
}

/** A new user; an unverified address is not stored (WordPress would email its owner reset links). */
function create_user( string $sub, string $email, array $claims ) {
	$name = is_string( $claims['name'] ?? null ) ? sanitize_text_field( $claims['name'] ) : '';
	$base = 'reader';
	foreach ( array( $claims['preferred_username'] ?? '', (string) strstr( $email, '@', true ), $name ) as $candidate ) {
		$candidate = is_string( $candidate ) ? substr( sanitize_user( $candidate, true ), 0, 50 ) : '';
		if ( '' !== $candidate ) {
			$base = $candidate;
			break;
		}
	}
	$login = $base;
	for ( $n = 2; username_exists( $login ); $n++ ) {
		$login = $n < 100 ? "$base$n" : $base . '-' . wp_generate_password( 8, false );
	}
	$id = wp_insert_user( array(
		'user_login'   => $login,
		'user_pass'    => wp_generate_password( 32, true, true ), // they sign in through the service
		'user_email'   => $email,
		'display_name' => '' !== $name ? $name : $login,
		'nickname'     => '' !== $name ? $name : $login,
		'role'         => new_reader_role(),
	) );
	if ( is_wp_error( $id ) ) {
		error_log( 'auth-service-login: a user could not be created: ' . $id->get_error_code() );
		return new \WP_Error( 'auth_service_create', 'Your account on this site could not be created. Please try again later.' );
	}
	update_user_meta( $id, SUB_META, $sub );
	return get_user_by( 'id', $id );
}

/** The role for new readers; a constant naming a missing or an administrator's role gets `subscriber`. */
function new_reader_role(): string {
	$role = get_role( setting( 'default_role' ) );
	if ( ! $role || $role->has_cap( 'manage_options' ) ) {
		error_log( 'auth-service-login: the role for new readers is missing or can manage the site; using subscriber' );
		return 'subscriber';
	}
	return $role->name;
}
