<?php
/**
 * Settings: Settings → Auth Service, overridden field by field by wp-config.php constants.
 *
 * Constants are the safer home for the client secret (it stays out of the
 * database and its backups); the page never shows a saved secret back.
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

const OPTION = 'auth_service_login';

/** Setting => the wp-config.php constant that overrides it. */
const CONSTANTS = array(
	'url'           => 'AUTH_SERVICE_URL',
	'client_id'     => 'AUTH_SERVICE_CLIENT_ID',
	'client_secret' => 'AUTH_SERVICE_CLIENT_SECRET',
	'default_role'  => 'AUTH_SERVICE_DEFAULT_ROLE',
);

/** The button defaults are the service's widget defaults. */
const DEFAULTS = array(
	'url'           => '',
	'client_id'     => '',
	'client_secret' => '',
	'default_role'  => 'subscriber',
	'size'          => 'medium',
	'type'          => 'continue_with',
	'show_face'     => '',
);

const SIZES = array( 'small', 'medium', 'large' );
const VERBS = array(
	'continue_with' => 'Continue with',
	'login_with'    => 'Log in with',
	'sign_in_with'  => 'Sign in with',
);

function setting( string $name ): string {
	if ( is_fixed( $name ) ) {
		return (string) constant( CONSTANTS[ $name ] );
	}
	$saved = get_option( OPTION, array() );
	return is_array( $saved ) && isset( $saved[ $name ] ) ? (string) $saved[ $name ] : DEFAULTS[ $name ];
}

/** Whether a wp-config.php constant decides this setting (its field is then read-only). */
function is_fixed( string $name ): bool {
	return isset( CONSTANTS[ $name ] ) && defined( CONSTANTS[ $name ] );
}

/** The service's base URL without its trailing slash: the issuer the tokens must name. */
function service_url(): string {
	return untrailingslashit( setting( 'url' ) );
}

function is_configured(): bool {
	return '' !== service_url() && '' !== setting( 'client_id' );
}

/** The three addresses to register with `auth-service clients add`. */
function site_uris(): array {
	return array(
		'redirect_uri'             => home_url( '/?auth-service=callback' ),
		'backchannel_logout_uri'   => home_url( '/?auth-service=backchannel-logout' ),
		'post_logout_redirect_uri' => home_url( '/' ),
	);
}

// --- the page ------------------------------------------------------------------------

function register_settings(): void {
	register_setting( 'auth_service_login', OPTION, array(
		'type'              => 'array',
		'sanitize_callback' => __NAMESPACE__ . '\sanitize',
		'default'           => array(),
	) );
}

function add_page(): void {
	add_options_page( 'Auth Service', 'Auth Service', 'manage_options', 'auth-service-login',
		__NAMESPACE__ . '\render_page' );
}

/**
 * Validates a submitted form: each bad value is named in a notice and the saved one kept.
 * A field not sent (read-only because a constant sets it) keeps its saved value, and
 * so does an empty secret (the form never holds the saved one).
 */
function sanitize( $input ): array {
	$saved = get_option( OPTION, array() );
	$saved = is_array( $saved ) ? $saved : array();
	$input = is_array( $input ) ? wp_unslash( $input ) : array();
	$clean = array_merge( DEFAULTS, $saved );
	foreach ( array_keys( DEFAULTS ) as $name ) {
		if ( ! array_key_exists( $name, $input ) ) {
			$input[ $name ] = $clean[ $name ];
		}
	}
	$value = function ( string $name ) use ( $input ): string {
		return isset( $input[ $name ] ) && is_string( $input[ $name ] ) ? trim( $input[ $name ] ) : '';
	};
	$refuse = function ( string $name, string $message ): void {
		add_settings_error( OPTION, "auth_service_$name", $message );
	};

	$url = untrailingslashit( $value( 'url' ) );
	$parts = wp_parse_url( $url );
	if ( '' === $url ) {
		$clean['url'] = '';
	} elseif ( ! is_array( $parts ) || ! in_array( $parts['scheme'] ?? '', array( 'http', 'https' ), true )
		|| empty( $parts['host'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] )
		|| isset( $parts['user'] ) || isset( $parts['pass'] ) ) {
		$refuse( 'url', 'Service URL: give the service\'s base URL, such as https://auth.example.com.' );
	} else {
		$clean['url'] = $url;
	}

	$client_id = $value( 'client_id' );
	if ( '' !== $client_id && ! preg_match( '/^[\x21-\x7e]{1,255}$/', $client_id ) ) {
		$refuse( 'client_id', 'Client ID: printable characters without spaces, as `auth-service clients add` printed it.' );
	} else {
		$clean['client_id'] = $client_id;
	}

	$secret = $value( 'client_secret' );
	if ( '' !== $secret && ! preg_match( '/^[\x21-\x7e]{1,512}$/', $secret ) ) {
		$refuse( 'client_secret', 'Client secret: printable characters without spaces, as `auth-service clients add` printed it.' );
	} elseif ( '' !== $secret ) {
		$clean['client_secret'] = $secret;
	}

	$role = $value( 'default_role' );
	$roles = wp_roles()->roles;
	if ( ! isset( $roles[ $role ] ) ) {
		$refuse( 'default_role', 'Role for new readers: choose one of the site\'s roles.' );
	} elseif ( ! empty( $roles[ $role ]['capabilities']['manage_options'] ) ) {
		$refuse( 'default_role', 'Role for new readers: a role that can change the site\'s settings is not given to every reader.' );
	} else {
		$clean['default_role'] = $role;
	}

	$size = $value( 'size' );
	$type = $value( 'type' );
	$clean['size'] = in_array( $size, SIZES, true ) ? $size : DEFAULTS['size'];
	$clean['type'] = isset( VERBS[ $type ] ) ? $type : DEFAULTS['type'];
	$clean['show_face'] = '1' === $value( 'show_face' ) ? '1' : '';
	return $clean;
}

function render_page(): void {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$field = function ( string $name, string $label, string $input ): void {
		printf( '<tr><th scope="row"><label for="auth-service-%s">%s</label></th><td>%s', esc_attr( $name ), esc_html( $label ), $input ); // phpcs:ignore -- $input is built escaped below
		if ( is_fixed( $name ) ) {
			printf( '<p class="description">Set by <code>%s</code> in wp-config.php.</p>', esc_html( CONSTANTS[ $name ] ) );
		}
		echo '</td></tr>';
	};
	$text = function ( string $name, string $type = 'text', string $placeholder = '' ): string {
		$value = 'client_secret' === $name ? '' : setting( $name ); // the secret is never sent back
		return sprintf( '<input type="%s" id="auth-service-%s" name="%s[%s]" value="%s" placeholder="%s" class="regular-text" autocomplete="off"%s>',
			esc_attr( $type ), esc_attr( $name ), OPTION, esc_attr( $name ), esc_attr( $value ),
			esc_attr( $placeholder ), disabled( is_fixed( $name ), true, false ) );
	};
	$select = function ( string $name, array $choices ): string {
		$html = sprintf( '<select id="auth-service-%s" name="%s[%s]"%s>', esc_attr( $name ), OPTION,
			esc_attr( $name ), disabled( is_fixed( $name ), true, false ) );
		foreach ( $choices as $value => $label ) {
			$html .= sprintf( '<option value="%s"%s>%s</option>', esc_attr( $value ),
				selected( setting( $name ), (string) $value, false ), esc_html( $label ) );
		}
		return $html . '</select>';
	};
	$roles = array_filter( wp_roles()->roles, function ( $role ) {
		return empty( $role['capabilities']['manage_options'] );
	} );
	$secret_hint = is_fixed( 'client_secret' ) ? '' : ( '' !== setting( 'client_secret' ) ? 'saved — leave empty to keep it' : 'not set' );
	?>
	<div class="wrap">
		<h1>Auth Service</h1>
		<p>Readers sign in on the service and come back signed in to this site. Register the site on the service with:</p>
		<pre><?php echo esc_html( register_command() ); ?></pre>
		<table class="widefat striped" style="max-width: 60em"><tbody>
			<?php foreach ( array( 'Redirect URI' => 'redirect_uri', 'Back-channel logout URI' => 'backchannel_logout_uri', 'Post-logout redirect URI' => 'post_logout_redirect_uri' ) as $label => $key ) : ?>
				<tr><th><?php echo esc_html( $label ); ?></th><td><code><?php echo esc_html( site_uris()[ $key ] ); ?></code></td></tr>
			<?php endforeach; ?>
		</tbody></table>
		<?php connection_notice(); ?>
		<form method="post" action="options.php">
			<?php settings_fields( 'auth_service_login' ); ?>
			<table class="form-table" role="presentation">
				<?php
				$field( 'url', 'Service URL', $text( 'url', 'url', 'https://auth.example.com' ) );
				$field( 'client_id', 'Client ID', $text( 'client_id' ) );
				$field( 'client_secret', 'Client secret', $text( 'client_secret', 'password', $secret_hint ) );
				$field( 'default_role', 'Role for new readers', $select( 'default_role', wp_list_pluck( $roles, 'name' ) ) );
				$field( 'size', 'Button size', $select( 'size', array_combine( SIZES, array_map( 'ucfirst', SIZES ) ) ) );
				$field( 'type', 'Button text', $select( 'type', array_map( function ( $verb ) {
					return "$verb …";
				}, VERBS ) ) );
				$field( 'show_face', 'Signed-in readers', $select( 'show_face', array( '' => 'See the buttons', '1' => 'See their face and name' ) ) );
				?>
			</table>
			<?php submit_button(); ?>
		</form>
	</div>
	<?php
}

function register_command(): string {
	$uris = site_uris();
	return sprintf( "auth-service clients add %s \\\n  --redirect-uri '%s' \\\n  --post-logout-redirect-uri '%s' \\\n  --backchannel-logout-uri '%s' \\\n  --first-party",
		sanitize_title( get_bloginfo( 'name' ) ) ?: 'wordpress', $uris['redirect_uri'],
		$uris['post_logout_redirect_uri'], $uris['backchannel_logout_uri'] );
}

/** Whether the service answers its discovery document: the first thing to check when sign-in fails. */
function connection_notice(): void {
	if ( ! is_configured() ) {
		echo '<div class="notice notice-warning inline"><p>Not connected yet: set the service URL and the client ID.</p></div>';
		return;
	}
	$discovery = discovery();
	if ( is_wp_error( $discovery ) ) {
		printf( '<div class="notice notice-error inline"><p>The service does not answer: %s</p></div>', esc_html( $discovery->get_error_message() ) );
	} else {
		printf( '<div class="notice notice-success inline"><p>Connected to %s.</p></div>', esc_html( $discovery['issuer'] ) );
	}
	if ( 'http' === wp_parse_url( service_url(), PHP_URL_SCHEME ) ) {
		echo '<div class="notice notice-warning inline"><p>The service URL is plain http: the client secret and the tokens cross the network unencrypted. Use https outside a test machine.</p></div>';
	}
}
