<?php
/**
 * The OpenID Connect round trip: /?auth-service=login → the service → /?auth-service=callback.
 *
 * Authorization code with PKCE (S256), `state` and `nonce`. What the callback
 * needs (the PKCE verifier, the nonce, where to go back) waits in a transient
 * keyed by the state's hash, used once, and bound to this browser by a cookie,
 * so a callback started in another browser (login CSRF) is refused.
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

const FLOW_COOKIE = 'auth_service_flow';
const FLOW_SECONDS = 600;
const CACHE_SECONDS = 600;

/**
 * A string from the query (or the form, or the cookies); '' when absent or not a string.
 * Raw: each caller compares, hashes, sanitizes or escapes it for its own use
 * (sanitize_text_field() would strip the %xx of a URL to return to).
 */
function param( string $name, ?array $from = null ): string {
	$from = $from ?? $_GET; // phpcs:ignore WordPress.Security.NonceVerification -- the OAuth state is the check
	return isset( $from[ $name ] ) && is_string( $from[ $name ] ) ? trim( wp_unslash( $from[ $name ] ) ) : '';
}

/** Dispatches the plugin's own addresses (`/?auth-service=…`); every other request passes. */
function route(): void {
	$action = param( 'auth-service' );
	$routes = array(
		'login'              => __NAMESPACE__ . '\start_login',
		'callback'           => __NAMESPACE__ . '\finish_login',
		'backchannel-logout' => __NAMESPACE__ . '\backchannel_logout',
	);
	if ( isset( $routes[ $action ] ) ) {
		nocache_headers();
		call_user_func( $routes[ $action ] );
		exit;
	}
}

// --- what the service publishes ---------------------------------------------------------

/** A JSON document from the service, or why not. */
function fetch_json( string $url, array $args = array() ) {
	$args += array( 'timeout' => 10, 'redirection' => 0 );
	$response = isset( $args['body'] ) ? wp_remote_post( $url, $args ) : wp_remote_get( $url, $args );
	if ( is_wp_error( $response ) ) {
		return new \WP_Error( 'auth_service_unreachable', 'The sign-in service cannot be reached (' . $response->get_error_message() . ').' );
	}
	$data = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $data ) ) {
		return new \WP_Error( 'auth_service_unreachable', 'The sign-in service answered ' . wp_remote_retrieve_response_code( $response ) . ' without JSON.' );
	}
	$data['_status'] = (int) wp_remote_retrieve_response_code( $response );
	return $data;
}

/**
 * The service's discovery document, cached for ten minutes (a failure is not cached).
 * Its issuer must be the configured URL exactly: every token is checked against it.
 */
function discovery() {
	if ( ! is_configured() ) {
		return new \WP_Error( 'auth_service_not_configured', 'The sign-in service is not configured yet.' );
	}
	$key = 'auth_service_discovery_' . md5( service_url() );
	$cached = get_transient( $key );
	if ( is_array( $cached ) ) {
		return $cached;
	}
	$meta = fetch_json( service_url() . '/.well-known/openid-configuration' );
	if ( is_wp_error( $meta ) ) {
		return $meta;
	}
	foreach ( array( 'authorization_endpoint', 'token_endpoint', 'jwks_uri' ) as $endpoint ) {
		if ( ! is_string( $meta[ $endpoint ] ?? null ) ) {
			return new \WP_Error( 'auth_service_unreachable', 'The service\'s discovery document has no ' . $endpoint . '.' );
		}
	}
	if ( ( $meta['issuer'] ?? null ) !== service_url() ) {
		return new \WP_Error( 'auth_service_unreachable', 'The service calls itself ' . wp_json_encode( $meta['issuer'] ?? null ) . ', not the configured URL ' . service_url() . '.' );
	}
	set_transient( $key, $meta, CACHE_SECONDS );
	return $meta;
}

/** The "continue with" providers the service offers: [ ['name' => …, 'label' => …], … ]. */
function providers(): array {
	$meta = discovery();
	$providers = array();
	foreach ( is_wp_error( $meta ) ? array() : (array) ( $meta['auth_service_providers'] ?? array() ) as $provider ) {
		if ( is_string( $provider['name'] ?? null ) && is_string( $provider['label'] ?? null ) ) {
			$providers[] = array( 'name' => $provider['name'], 'label' => $provider['label'] );
		}
	}
	return $providers;
}

/**
 * Verified claims of a token the service signed for this site (`exp` required unless
 * `$needs_exp` is false). The JWKS is cached; a key id not in it (the service rotated
 * its keys) fetches it again, at most once a minute.
 */
function verified_claims( string $token, bool $needs_exp = true ) {
	$meta = discovery();
	if ( is_wp_error( $meta ) ) {
		return $meta;
	}
	$key = 'auth_service_jwks_' . md5( $meta['jwks_uri'] );
	$jwks = get_transient( $key );
	$claims = is_array( $jwks ) ? verify_signature( $token, $jwks ) : null;
	if ( null === $claims || ( is_wp_error( $claims ) && 'auth_service_unknown_key' === $claims->get_error_code()
		&& ! get_transient( $key . '_fresh' ) ) ) {
		$jwks = fetch_json( $meta['jwks_uri'] );
		if ( is_wp_error( $jwks ) ) {
			return $jwks;
		}
		set_transient( $key, $jwks, DAY_IN_SECONDS );
		set_transient( $key . '_fresh', 1, MINUTE_IN_SECONDS );
		$claims = verify_signature( $token, $jwks );
	}
	if ( is_wp_error( $claims ) ) {
		return $claims;
	}
	$wrong = check_claims( $claims, $meta['issuer'], setting( 'client_id' ), $needs_exp );
	return $wrong ?: $claims;
}

// --- signing in --------------------------------------------------------------------------

/** The address that starts a sign-in: through `$provider` ('' for the service's own page). */
function login_url( string $provider, string $redirect ): string {
	return with_query( home_url( '/' ), array_filter( array(
		'auth-service' => 'login',
		'provider'     => $provider,
		'redirect_to'  => $redirect,
	) ) );
}

/** `$url` with `$query` added, every value encoded (add_query_arg() encodes nothing). */
function with_query( string $url, array $query ): string {
	return $url . ( false === strpos( $url, '?' ) ? '?' : '&' ) . http_build_query( $query, '', '&', PHP_QUERY_RFC3986 );
}

function random_token(): string {
	return rtrim( strtr( base64_encode( random_bytes( 32 ) ), '+/', '-_' ), '=' );
}

function flow_key( string $state ): string {
	return 'auth_service_flow_' . hash( 'sha256', $state );
}

function start_login(): void {
	$meta = discovery();
	if ( is_wp_error( $meta ) ) {
		unavailable( $meta );
	}
	$browser = param( FLOW_COOKIE, $_COOKIE ); // kept, so that sign-ins started in two tabs both work
	if ( ! preg_match( '/^[A-Za-z0-9_-]{43}$/', $browser ) ) {
		$browser = random_token();
	}
	setcookie( FLOW_COOKIE, $browser, array(
		'expires'  => time() + FLOW_SECONDS,
		'path'     => COOKIEPATH ?: '/',
		'secure'   => is_ssl(),
		'httponly' => true,
		'samesite' => 'Lax', // the service's redirect back is a top-level GET: Lax sends it
	) );
	$state = random_token();
	$nonce = random_token();
	$verifier = random_token();
	$redirect = esc_url_raw( param( 'redirect_to' ) );
	set_transient( flow_key( $state ), array(
		'browser'  => hash( 'sha256', $browser ),
		'nonce'    => $nonce,
		'verifier' => $verifier,
		'redirect' => wp_validate_redirect( $redirect, home_url( '/' ) ),
	), FLOW_SECONDS );
	$provider = sanitize_key( param( 'provider' ) );
	$query = array(
		'response_type'         => 'code',
		'client_id'             => setting( 'client_id' ),
		'redirect_uri'          => site_uris()['redirect_uri'],
		'scope'                 => 'openid email profile',
		'state'                 => $state,
		'nonce'                 => $nonce,
		'code_challenge'        => rtrim( strtr( base64_encode( hash( 'sha256', $verifier, true ) ), '+/', '-_' ), '=' ),
		'code_challenge_method' => 'S256',
	);
	if ( '' !== $provider ) {
		$query['provider'] = $provider; // straight to that "continue with" provider
	}
	wp_redirect( with_query( $meta['authorization_endpoint'], $query ) );
}

function finish_login(): void {
	$state = param( 'state' );
	$flow = '' !== $state ? get_transient( flow_key( $state ) ) : false;
	$browser = param( FLOW_COOKIE, $_COOKIE );
	if ( ! is_array( $flow ) || ! hash_equals( $flow['browser'], hash( 'sha256', $browser ) ) ) {
		fail( 'This sign-in has expired or was started in another browser. Please start again.' );
	}
	delete_transient( flow_key( $state ) ); // one use
	$meta = discovery();
	if ( is_wp_error( $meta ) ) {
		unavailable( $meta );
	}
	if ( '' !== param( 'iss' ) && param( 'iss' ) !== $meta['issuer'] ) { // RFC 9207
		fail( 'This answer does not come from the sign-in service.' );
	}
	if ( '' !== param( 'error' ) ) {
		fail( 'access_denied' === param( 'error' ) ? 'Sign-in was cancelled.' : 'The sign-in service could not sign you in (' . sanitize_key( param( 'error' ) ) . ').' );
	}
	$tokens = fetch_json( $meta['token_endpoint'], array(
		'headers' => array( 'Authorization' => 'Basic ' . base64_encode( rawurlencode( setting( 'client_id' ) ) . ':' . rawurlencode( setting( 'client_secret' ) ) ) ),
		'body'    => array(
			'grant_type'    => 'authorization_code',
			'code'          => param( 'code' ),
			'redirect_uri'  => site_uris()['redirect_uri'],
			'code_verifier' => $flow['verifier'],
		),
	) );
	if ( is_wp_error( $tokens ) ) {
		unavailable( $tokens );
	}
	if ( 200 !== $tokens['_status'] || ! is_string( $tokens['id_token'] ?? null ) ) {
		// The error code only: the service's description could echo what we sent.
		error_log( 'auth-service-login: the token endpoint answered ' . $tokens['_status'] . ' ' . sanitize_key( $tokens['error'] ?? '' ) );
		fail( 'The sign-in service refused this sign-in. Please start again.' );
	}
	$claims = verified_claims( $tokens['id_token'] );
	if ( ! is_wp_error( $claims ) && ( ! is_string( $claims['sub'] ?? null ) || '' === $claims['sub']
		|| ! hash_equals( $flow['nonce'], (string) ( $claims['nonce'] ?? '' ) ) ) ) {
		$claims = new \WP_Error( 'auth_service_bad_token', 'The sign-in answer is not for this sign-in.' );
	}
	if ( is_wp_error( $claims ) ) {
		fail( $claims->get_error_message() );
	}
	$user = user_for( $claims + userinfo( $meta, $tokens, $claims['sub'] ) );
	if ( is_wp_error( $user ) ) {
		fail( $user->get_error_message(), 409 );
	}
	sign_in( $user, $claims, $tokens['id_token'] );
	wp_safe_redirect( $flow['redirect'] );
}

/** The userinfo claims (the name, the picture) when the service has that endpoint; the ID token's win. */
function userinfo( array $meta, array $tokens, string $sub ): array {
	if ( ! is_string( $meta['userinfo_endpoint'] ?? null ) || ! is_string( $tokens['access_token'] ?? null ) ) {
		return array();
	}
	$info = fetch_json( $meta['userinfo_endpoint'], array( 'headers' => array( 'Authorization' => 'Bearer ' . $tokens['access_token'] ) ) );
	return ! is_wp_error( $info ) && 200 === $info['_status'] && ( $info['sub'] ?? null ) === $sub ? $info : array();
}

/** The service cannot be reached: the reason goes to the log, not to the reader. */
function unavailable( \WP_Error $why ): void {
	error_log( 'auth-service-login: ' . $why->get_error_message() );
	fail( 'Sign-in is not available right now. Please try again in a moment.', 503 );
}

/** A friendly error page (never a stack trace), with the way back to the site. */
function fail( string $message, int $status = 400 ): void {
	wp_die( esc_html( $message ), 'Sign-in', array(
		'response'  => $status,
		'link_url'  => home_url( '/' ),
		'link_text' => 'Back to the site',
	) );
}
