<?php
/**
 * Plugin Name:       Auth Service Login
 * Description:       Readers sign in through your auth_service (OpenID Connect): "Continue with …" buttons by the [fbl_login_button] / [auth_service_login] shortcode, WordPress users keyed by the service's subject, sign-out both ways.
 * Version:           0.1.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * License:           MIT
 *
 * Where things are: includes/settings.php (Settings → Auth Service, wp-config.php
 * constants), includes/oidc.php (the sign-in round trip), includes/jwt.php (token
 * signatures), includes/users.php (who the reader is here), includes/sessions.php
 * (signing out both ways), includes/shortcode.php (the buttons).
 */

namespace AuthServiceLogin;

defined( 'ABSPATH' ) || exit;

foreach ( array( 'settings', 'jwt', 'oidc', 'users', 'sessions', 'marks', 'shortcode' ) as $part ) {
	require_once __DIR__ . "/includes/$part.php";
}

add_action( 'init', __NAMESPACE__ . '\end_if_ended_on_service', 1 );
add_action( 'init', __NAMESPACE__ . '\route' );
add_action( 'init', function () {
	wp_register_style( 'auth-service-login', plugins_url( 'assets/login-buttons.css', __FILE__ ), array(), '0.1.0' );
	add_shortcode( 'fbl_login_button', __NAMESPACE__ . '\render_shortcode' );
	add_shortcode( 'auth_service_login', __NAMESPACE__ . '\render_shortcode' );
} );

add_action( 'login_form_logout', __NAMESPACE__ . '\remember_logout' );
add_filter( 'logout_redirect', __NAMESPACE__ . '\logout_redirect', 10, 1 );

add_action( 'admin_init', __NAMESPACE__ . '\register_settings' );
add_action( 'admin_menu', __NAMESPACE__ . '\add_page' );
add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), function ( array $links ): array {
	array_unshift( $links, '<a href="' . esc_url( admin_url( 'options-general.php?page=auth-service-login' ) ) . '">Settings</a>' );
	return $links;
} );
