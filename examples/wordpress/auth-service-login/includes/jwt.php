<?php
/**
 * Signed JWTs (ID tokens, logout tokens) checked with PHP's openssl alone.
 *
 * The algorithm is pinned: only RS256 and ES256 are accepted, each only with a
 * key of its own type, so a token cannot pick "none" or HMAC-with-the-public-key.
 * The keys come from the service's JWKS (see oidc.php); JWK to PEM is a few
 * lines of DER, which spares the site a vendored JOSE library.
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

/** Accepted algorithms: the key type each needs, and openssl's digest. */
const ALGORITHMS = array(
	'RS256' => array( 'RSA', OPENSSL_ALGO_SHA256 ),
	'ES256' => array( 'EC', OPENSSL_ALGO_SHA256 ),
);

/** Seconds of clock difference tolerated between the service and this site. */
const LEEWAY = 60;

function b64url_decode( string $text ) {
	if ( ! preg_match( '/^[A-Za-z0-9_-]*$/', $text ) ) {
		return false;
	}
	return base64_decode( strtr( $text, '-_', '+/' ), true );
}

/**
 * The claims of a JWT whose signature one of `$jwks`' keys verifies.
 *
 * @param string $jwt  The compact token.
 * @param array  $jwks The decoded JWKS document (`{"keys": [...]}`).
 * @return array|\WP_Error The claims, or why the token is refused
 *                         (`auth_service_unknown_key` when no key has its `kid`).
 */
function verify_signature( string $jwt, array $jwks ) {
	$parts = explode( '.', $jwt );
	if ( count( $parts ) !== 3 ) {
		return new \WP_Error( 'auth_service_bad_token', 'The token is not a signed JWT.' );
	}
	list( $head, $body, $signature ) = array_map( __NAMESPACE__ . '\b64url_decode', $parts );
	$header = is_string( $head ) ? json_decode( $head, true ) : null;
	$claims = is_string( $body ) ? json_decode( $body, true ) : null;
	if ( ! is_array( $header ) || ! is_array( $claims ) || ! is_string( $signature ) ) {
		return new \WP_Error( 'auth_service_bad_token', 'The token cannot be read.' );
	}
	$alg = isset( $header['alg'] ) && is_string( $header['alg'] ) ? $header['alg'] : '';
	if ( ! isset( ALGORITHMS[ $alg ] ) ) {
		return new \WP_Error( 'auth_service_bad_token', 'The token\'s algorithm is not accepted.' );
	}
	list( $kty, $digest ) = ALGORITHMS[ $alg ];
	$kid = isset( $header['kid'] ) && is_string( $header['kid'] ) ? $header['kid'] : null;
	$key = find_key( $jwks, $kty, $alg, $kid );
	if ( null === $key ) {
		return new \WP_Error( 'auth_service_unknown_key', 'No published key signed this token.' );
	}
	$pem = 'RSA' === $kty ? rsa_pem( $key ) : ec_pem( $key );
	if ( 'EC' === $kty ) {
		$signature = ecdsa_der( $signature );
	}
	if ( null === $pem || null === $signature
		|| 1 !== openssl_verify( $parts[0] . '.' . $parts[1], $signature, $pem, $digest ) ) {
		return new \WP_Error( 'auth_service_bad_token', 'The token\'s signature is wrong.' );
	}
	return $claims;
}

/**
 * Refuses claims not meant for this site, or out of date. Returns null when they are fine.
 *
 * @param array  $claims    Verified claims.
 * @param string $issuer    The service's issuer, exactly.
 * @param string $client_id This site's client id (the audience).
 * @param bool   $needs_exp ID tokens must expire; logout tokens may omit `exp`.
 */
function check_claims( array $claims, string $issuer, string $client_id, bool $needs_exp = true ) {
	$now = time();
	$aud = isset( $claims['aud'] ) ? (array) $claims['aud'] : array();
	$exp = $claims['exp'] ?? null;
	$problems = array(
		'issuer'     => ( $claims['iss'] ?? null ) !== $issuer,
		'audience'   => ! in_array( $client_id, $aud, true )
			|| ( count( $aud ) > 1 && ( $claims['azp'] ?? null ) !== $client_id ),
		'expiry'     => ( $needs_exp || null !== $exp ) && ( ! is_int( $exp ) || $exp < $now - LEEWAY ),
		'issue time' => ! is_int( $claims['iat'] ?? null ) || $claims['iat'] > $now + LEEWAY,
	);
	foreach ( $problems as $what => $wrong ) {
		if ( $wrong ) {
			return new \WP_Error( 'auth_service_bad_token', "The token's $what is wrong." );
		}
	}
	return null;
}

/** The JWKS key for `$kid` of the right type, or the only such key when the token names none. */
function find_key( array $jwks, string $kty, string $alg, ?string $kid ): ?array {
	$found = array();
	foreach ( (array) ( $jwks['keys'] ?? array() ) as $key ) {
		if ( ! is_array( $key ) || ( $key['kty'] ?? '' ) !== $kty
			|| ( isset( $key['use'] ) && 'sig' !== $key['use'] )
			|| ( isset( $key['alg'] ) && $alg !== $key['alg'] )
			|| ( null !== $kid && ( $key['kid'] ?? null ) !== $kid ) ) {
			continue;
		}
		$found[] = $key;
	}
	return 1 === count( $found ) ? $found[0] : null;
}

// --- JWK to PEM: a SubjectPublicKeyInfo in DER ------------------------------------------

function der( int $tag, string $content ): string {
	$length = strlen( $content );
	if ( $length < 128 ) {
		return chr( $tag ) . chr( $length ) . $content;
	}
	$bytes = ltrim( pack( 'N', $length ), "\0" );
	return chr( $tag ) . chr( 0x80 | strlen( $bytes ) ) . $bytes . $content;
}

function der_integer( string $unsigned ): string {
	$unsigned = ltrim( $unsigned, "\0" );
	if ( '' === $unsigned || ord( $unsigned[0] ) > 0x7f ) {
		$unsigned = "\0" . $unsigned;
	}
	return der( 0x02, $unsigned );
}

function pem( string $der ): string {
	return "-----BEGIN PUBLIC KEY-----\n" . chunk_split( base64_encode( $der ), 64, "\n" )
		. "-----END PUBLIC KEY-----\n";
}

/** An RSA JWK as PEM; null unless it has a modulus of 2048 bits or more. */
function rsa_pem( array $key ): ?string {
	$n = is_string( $key['n'] ?? null ) ? b64url_decode( $key['n'] ) : false;
	$e = is_string( $key['e'] ?? null ) ? b64url_decode( $key['e'] ) : false;
	if ( ! is_string( $n ) || strlen( ltrim( $n, "\0" ) ) < 256 || ! is_string( $e ) || '' === $e ) {
		return null;
	}
	$rsa_encryption = der( 0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01" ) . der( 0x05, '' );
	$public_key = der( 0x30, der_integer( $n ) . der_integer( $e ) );
	return pem( der( 0x30, der( 0x30, $rsa_encryption ) . der( 0x03, "\0" . $public_key ) ) );
}

/** A P-256 JWK as PEM; null for any other curve or a malformed point. */
function ec_pem( array $key ): ?string {
	$x = is_string( $key['x'] ?? null ) ? b64url_decode( $key['x'] ) : false;
	$y = is_string( $key['y'] ?? null ) ? b64url_decode( $key['y'] ) : false;
	if ( ( $key['crv'] ?? '' ) !== 'P-256' || ! is_string( $x ) || ! is_string( $y )
		|| strlen( $x ) !== 32 || strlen( $y ) !== 32 ) {
		return null;
	}
	$ec_p256 = der( 0x06, "\x2a\x86\x48\xce\x3d\x02\x01" ) . der( 0x06, "\x2a\x86\x48\xce\x3d\x03\x01\x07" );
	return pem( der( 0x30, der( 0x30, $ec_p256 ) . der( 0x03, "\0\x04" . $x . $y ) ) );
}

/** A JWS ES256 signature (r and s, 32 bytes each) as the DER openssl verifies. */
function ecdsa_der( string $raw ): ?string {
	if ( strlen( $raw ) !== 64 ) {
		return null;
	}
	return der( 0x30, der_integer( substr( $raw, 0, 32 ) ) . der_integer( substr( $raw, 32 ) ) );
}
