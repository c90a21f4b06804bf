<?php
/**
 * WordPress sessions tied to the reader's session on the service, both ways.
 *
 * Signing in stores the service's session id (`sid`) and the ID token in the
 * WordPress session (server side, with WordPress's own session data).
 * WordPress's "log out" then ends the service session too (RP-initiated logout,
 * the ID token as the hint). A session ended on the service reaches us by its
 * back-channel logout token: a sub-only token ends every WordPress session of
 * that reader at once; a token with a `sid` marks that session as ended, and
 * the WordPress session holding that `sid` ends on its next request (WordPress
 * has no public way to find a session by its data; the check is one transient
 * read per request of a reader who came through the service).
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How long an ended `sid` is remembered: WordPress's longest ("remember me") session. */
const ENDED_SECONDS = 14 * DAY_IN_SECONDS;

function sign_in( \WP_User $user, array $claims, string $id_token ): void {
	$attach = function ( array $session ) use ( $claims, $id_token ): array {
		$session['auth_service_sid'] = is_string( $claims['sid'] ?? null ) ? $claims['sid'] : '';
		$session['auth_service_id_token'] = $id_token;
		return $session;
	};
	add_filter( 'attach_session_information', $attach );
	wp_set_auth_cookie( $user->ID, false, is_ssl() );
	remove_filter( 'attach_session_information', $attach );
	wp_set_current_user( $user->ID );
	do_action( 'wp_login', $user->user_login, $user );
}

/** The current WordPress session's data, or an empty array. */
function current_session(): array {
	if ( ! is_user_logged_in() ) {
		return array();
	}
	$session = \WP_Session_Tokens::get_instance( get_current_user_id() )->get( wp_get_session_token() );
	return is_array( $session ) ? $session : array();
}

function ended_key( string $sid ): string {
	return 'auth_service_ended_' . hash( 'sha256', $sid );
}

/** Early on every request: a session that ended on the service ends here too. */
function end_if_ended_on_service(): void {
	$sid = current_session()['auth_service_sid'] ?? '';
	if ( '' !== $sid && get_transient( ended_key( $sid ) ) ) {
		wp_logout();
	}
}

// --- RP-initiated logout -----------------------------------------------------------------

/** The ID token of the session wp-login.php is about to end, kept until logout_redirect. */
function pending_logout( ?string $id_token = null ): string {
	static $pending = '';
	if ( null !== $id_token ) {
		$pending = $id_token;
	}
	return $pending;
}

/** `login_form_logout`: runs while the session still exists. */
function remember_logout(): void {
	pending_logout( (string) ( current_session()['auth_service_id_token'] ?? '' ) );
}

/** `logout_redirect`: a reader who came through the service leaves through it as well. */
function logout_redirect( string $redirect_to ): string {
	$meta = '' !== pending_logout() ? discovery() : null;
	if ( ! is_array( $meta ) || ! is_string( $meta['end_session_endpoint'] ?? null ) ) {
		return $redirect_to;
	}
	add_filter( 'allowed_redirect_hosts', __NAMESPACE__ . '\allow_service_host' );
	return with_query( $meta['end_session_endpoint'], array(
		'id_token_hint'            => pending_logout(),
		'client_id'                => setting( 'client_id' ),
		'post_logout_redirect_uri' => site_uris()['post_logout_redirect_uri'],
	) );
}

/** Lets wp_safe_redirect() go to the service as well (added for that one redirect). */
function allow_service_host( array $hosts ): array {
	$host = wp_parse_url( service_url(), PHP_URL_HOST );
	return $host ? array_merge( $hosts, array( $host ) ) : $hosts;
}

// --- back-channel logout (OpenID Connect Back-Channel Logout 1.0) --------------------------

function backchannel_logout(): void {
	$token = 'POST' === ( $_SERVER['REQUEST_METHOD'] ?? '' ) ? param( 'logout_token', $_POST ) : ''; // phpcs:ignore WordPress.Security.NonceVerification -- the token's signature is the check
	$claims = '' !== $token ? verified_claims( $token, false ) : new \WP_Error( 'auth_service_bad_token', 'POST a logout_token.' );
	if ( ! is_wp_error( $claims ) && ( ! is_array( $claims['events'] ?? null )
		|| ! array_key_exists( LOGOUT_EVENT, $claims['events'] ) || isset( $claims['nonce'] )
		|| ( ! is_string( $claims['sid'] ?? null ) && ! is_string( $claims['sub'] ?? null ) ) ) ) {
		$claims = new \WP_Error( 'auth_service_bad_token', 'This is not a logout token.' );
	}
	if ( is_wp_error( $claims ) ) {
		wp_send_json( array( 'error' => 'invalid_request', 'error_description' => $claims->get_error_message() ), 400 );
	}
	if ( is_string( $claims['sid'] ?? null ) ) {
		set_transient( ended_key( $claims['sid'] ), 1, ENDED_SECONDS );
	} else {
		$user = user_by_sub( $claims['sub'] );
		if ( $user ) {
			\WP_Session_Tokens::get_instance( $user->ID )->destroy_all();
		}
	}
	wp_send_json( array(), 200 );
}
