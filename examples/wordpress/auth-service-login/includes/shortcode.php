<?php
/**
 * `[fbl_login_button]` (the Facebook-only plugin's shortcode, kept so no page needs
 * editing) and its alias `[auth_service_login]`.
 *
 * Same attributes and meanings as the service's /widget/login-buttons: `size`
 * (small, medium, large), `type` (continue_with, login_with, sign_in_with),
 * `show_face`, `redirect`, `hide_if_logged`. An empty attribute takes the
 * settings page's default; an unknown value falls back to it, as the widget's
 * do. Rendered here from the service's provider list, so no iframe is needed.
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

const TRUE_WORDS = array( '1', 'true', 'yes', 'on' );

function render_shortcode( $atts, $content = '', $tag = 'auth_service_login' ): string {
	$atts = shortcode_atts( array(
		'size'           => '',
		'type'           => '',
		'show_face'      => '',
		'redirect'       => '',
		'hide_if_logged' => '',
	), $atts, $tag );
	$word = function ( string $name ) use ( $atts ): string {
		return strtolower( trim( (string) $atts[ $name ] ) );
	};
	$size = in_array( $word( 'size' ), SIZES, true ) ? $word( 'size' ) : setting( 'size' );
	$verb = VERBS[ $word( 'type' ) ] ?? VERBS[ setting( 'type' ) ] ?? VERBS['continue_with'];
	$show_face = '' === $word( 'show_face' ) ? '1' === setting( 'show_face' ) : in_array( $word( 'show_face' ), TRUE_WORDS, true );
	$redirect = wp_validate_redirect( esc_url_raw( trim( (string) $atts['redirect'] ) ), '' ) ?: current_url();

	wp_enqueue_style( 'auth-service-login' );
	if ( is_user_logged_in() ) {
		if ( in_array( $word( 'hide_if_logged' ), TRUE_WORDS, true ) ) {
			return '';
		}
		if ( $show_face ) {
			return face( wp_get_current_user() );
		}
	}
	return buttons( $verb, in_array( $size, SIZES, true ) ? $size : 'medium', $redirect );
}

/** The page being read, to come back to after signing in. */
function current_url(): string {
	$host = isset( $_SERVER['HTTP_HOST'] ) ? sanitize_text_field( wp_unslash( $_SERVER['HTTP_HOST'] ) ) : '';
	$path = isset( $_SERVER['REQUEST_URI'] ) ? esc_url_raw( wp_unslash( $_SERVER['REQUEST_URI'] ) ) : '/';
	return wp_validate_redirect( ( is_ssl() ? 'https://' : 'http://' ) . $host . $path, home_url( '/' ) );
}

function buttons( string $verb, string $size, string $redirect ): string {
	$meta = discovery();
	if ( is_wp_error( $meta ) ) {
		$why = current_user_can( 'manage_options' ) ? ' ' . $meta->get_error_message() . ' (Settings → Auth Service)' : '';
		return '<p class="auth-service-login asl-unavailable">Sign-in is not available right now.' . esc_html( $why ) . '</p>';
	}
	$html = '<div class="auth-service-login asl-' . esc_attr( $size ) . '">';
	$providers = providers();
	if ( $providers ) {
		$html .= '<ul class="asl-providers" aria-label="' . esc_attr( "$verb a social account" ) . '">';
		foreach ( $providers as $provider ) {
			$kind = isset( MARKS[ $provider['name'] ] ) ? $provider['name'] : 'other';
			$html .= sprintf( '<li><a class="asl-button asl-%s" href="%s">%s<span>%s</span></a></li>',
				esc_attr( $kind ), esc_url( login_url( $provider['name'], $redirect ) ), MARKS[ $kind ],
				esc_html( "$verb {$provider['label']}" ) );
		}
		$html .= '</ul>';
	}
	$html .= sprintf( '<p class="asl-local"><a href="%s">Sign in with your email</a></p>',
		esc_url( login_url( '', $redirect ) ) );
	return $html . '</div>';
}

/** The signed-in reader: their picture from the service (or their initial), name and a way out. */
function face( \WP_User $user ): string {
	$picture = (string) get_user_meta( $user->ID, PICTURE_META, true );
	$name = $user->display_name;
	$image = '' !== $picture
		? sprintf( '<img src="%s" alt="" width="40" height="40">', esc_url( $picture ) )
		: sprintf( '<span class="asl-initial" aria-hidden="true">%s</span>', esc_html( mb_substr( $name, 0, 1 ) ) );
	return sprintf( '<div class="auth-service-login asl-face">%s<span>Signed in as <strong>%s</strong></span> <a class="asl-logout" href="%s">Log out</a></div>',
		$image, esc_html( $name ), esc_url( wp_logout_url( current_url() ) ) );
}
