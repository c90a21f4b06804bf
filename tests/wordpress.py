"""A real WordPress on 127.0.0.1 for the plugin's tests: Debian's files, MariaDB, PHP's server.

Debian's ``wordpress`` package reads its configuration from /etc/wordpress; the
tests leave the machine's configuration alone. They copy the package's files to
a temporary folder with a wp-config.php of their own (a fresh MariaDB database
``wp_test_…``, dropped afterwards), install WordPress by calling ``wp_install()``
from php-cli (no browser), activate the plugin (a symlink to
examples/wordpress/auth-service-login, so the files under test are the
repository's), add the content site's sign-in page with its shortcode, and serve it all
with PHP's built-in server on a free port.

Without php, php-mysql, the wordpress files or MariaDB the tests skip locally,
but fail under CI (``CI`` set), where .ci/run installs them.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.conftest import free_port
from tests.live import Browser, Page, responds, wait_until

WORDPRESS = Path("/usr/share/wordpress")
PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "wordpress" / "auth-service-login"
PLUGIN_FILE = "auth-service-login/auth-service-login.php"
MARIADB = ("127.0.0.1", 3306)
ADMIN = "admin"
# The content site's sign-in box as its page holds it today, the shortcode exactly.
SHORTCODE = ('[fbl_login_button redirect="" hide_if_logged="" size="large" '
             'type="continue_with" show_face="true"]')
SIGN_IN_BOX = f"""<!-- wp:paragraph -->
<p>For faster login or register use your social account.</p>
<!-- /wp:paragraph -->
<!-- wp:shortcode -->
{SHORTCODE}
<!-- /wp:shortcode -->
<!-- wp:paragraph -->
<p>Account details will be confirmed via email.</p>
<!-- /wp:paragraph -->"""


def php_binary() -> str | None:
    return shutil.which("php")


def _php(code: str, *, cwd: Path | None = None, stdin: str | None = None,
         env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([php_binary() or "php", "-d", "display_errors=stderr", "-r", code],
                          cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def _mariadb(statement: str) -> subprocess.CompletedProcess:
    """Run one SQL statement on MariaDB through PHP's mysqli (no Python driver needed)."""
    host, port = MARIADB
    return _php(f"$db = new mysqli({host!r}, 'root', '', '', {port}); "
                f"$db->query({json.dumps(statement)}) or exit(1);")


@functools.cache
def missing() -> str | None:
    """Why a real WordPress cannot run here, or None."""
    if php_binary() is None:
        return "php-cli is not installed"
    if not (WORDPRESS / "wp-settings.php").exists():
        return f"Debian's wordpress package is not installed ({WORDPRESS})"
    if _php("exit(function_exists('mysqli_connect') ? 0 : 3);").returncode != 0:
        return "php-mysql is not installed"
    if _mariadb("SELECT 1").returncode != 0:
        return "MariaDB does not answer on 127.0.0.1:3306 (root, no password)"
    return None


def require_wordpress() -> None:
    """Skip (locally) or fail (under CI) when a real WordPress cannot run.

    Called at the top of a test module: one line for the module, not one per test.
    """
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} under CI: .ci/run should have installed wordpress, php-cli "
                    "and php-mysql", pytrace=False)
    pytest.skip(f"{reason}: `apt-get install wordpress php-cli php-mysql` and MariaDB on "
                "127.0.0.1:3306 run these", allow_module_level=True)


@dataclass
class WordPress:
    """A running WordPress and what the tests need to know about it."""

    base: str
    root: Path
    database: str
    admin_password: str
    page_id: int = 0

    def url(self, path: str = "/") -> str:
        return self.base + path

    @property
    def page(self) -> str:
        """The page holding the site's sign-in box."""
        return self.url(f"/?page_id={self.page_id}")

    def php(self, code: str, stdin: str | None = None,
            env: Mapping[str, str] | None = None) -> str:
        """Run PHP inside this WordPress (wp-load.php loaded, plugins active); its stdout."""
        host = self.base.removeprefix("http://")
        bootstrap = (f"$_SERVER['HTTP_HOST'] = {host!r}; $_SERVER['REQUEST_URI'] = '/'; "
                     "require 'wp-load.php'; ")
        done = _php(bootstrap + code, cwd=self.root, stdin=stdin, env=env)
        assert done.returncode == 0, f"PHP failed ({done.returncode}):\n{done.stderr}"
        return done.stdout

    def configure(self, **constants: str) -> None:
        """Set the plugin's wp-config.php constants (AUTH_SERVICE_URL=…), replacing any before."""
        lines = [f"define({json.dumps(name)}, {json.dumps(value)});"
                 for name, value in constants.items()]
        (self.root / "auth-service-constants.php").write_text("<?php\n" + "\n".join(lines) + "\n")

    def reset(self) -> None:
        """The plugin as just activated: no constants, no saved settings, nothing cached."""
        self.configure()
        self.php("global $wpdb; $wpdb->query(\"DELETE FROM $wpdb->options "
                 "WHERE option_name LIKE '%auth\\_service\\_%'\");")

    def add_page(self, title: str, content: str) -> str:
        """Publish a page; its URL."""
        page_id = self.php("wp_set_current_user(1); echo wp_insert_post(['post_type' => 'page', "
                           f"'post_status' => 'publish', 'post_title' => {json.dumps(title)}, "
                           "'post_content' => stream_get_contents(STDIN)], true);",
                           stdin=content)
        return self.url(f"/?page_id={int(page_id)}")

    def debug_log(self) -> str:
        log = self.root / "debug.log"
        return log.read_text() if log.exists() else ""


def _wp_config(database: str, base: str) -> str:
    salts = "\n".join(f"define('{name}', '{secrets.token_hex(32)}');" for name in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
        "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
    host, port = MARIADB
    return f"""<?php
define('DB_NAME', '{database}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '{host}:{port}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
$table_prefix = 'wp_';
define('WP_HOME', '{base}');
define('WP_SITEURL', '{base}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', __DIR__ . '/debug.log');
define('WP_DEBUG_DISPLAY', false);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
// Only this machine: WordPress may reach 127.0.0.1 (its own host), nothing outside.
define('WP_HTTP_BLOCK_EXTERNAL', true);
// The plugin's constants, written by the tests (WordPress.configure).
if (is_file(__DIR__ . '/auth-service-constants.php')) {{
    require __DIR__ . '/auth-service-constants.php';
}}
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
"""


INSTALL = """
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = getenv('WP_TEST_HOST');
require 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$done = wp_install('Red Africa Travel', getenv('WP_TEST_ADMIN'), 'admin@example.com', false, '',
                   getenv('WP_TEST_PASSWORD'));
exit(empty($done['user_id']) ? 1 : 0);
"""

ACTIVATE = f"""
require_once ABSPATH . 'wp-admin/includes/plugin.php';
wp_set_current_user(1);
$result = activate_plugin('{PLUGIN_FILE}');
if (is_wp_error($result)) {{ fwrite(STDERR, $result->get_error_message()); exit(1); }}
"""


@contextmanager
def wordpress_site(folder: Path) -> Iterator[WordPress]:
    """Install and serve a WordPress in ``folder``; dropped and stopped afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    root = folder / "wordpress"
    shutil.copytree(WORDPRESS, root, symlinks=True)
    plugins = root / "wp-content" / "plugins"
    (plugins / "auth-service-login").symlink_to(PLUGIN, target_is_directory=True)
    database = f"wp_test_{os.getpid()}_{secrets.token_hex(3)}"
    (root / "wp-config.php").write_text(_wp_config(database, base))
    site = WordPress(base=base, root=root, database=database,
                     admin_password=secrets.token_urlsafe(16))
    created = _mariadb(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    assert created.returncode == 0, created.stderr
    server = None
    try:
        installed = _php(INSTALL, cwd=root, env={
            "WP_TEST_HOST": f"127.0.0.1:{port}", "WP_TEST_ADMIN": ADMIN,
            "WP_TEST_PASSWORD": site.admin_password})
        assert installed.returncode == 0, f"wp_install failed:\n{installed.stderr}"
        site.php(ACTIVATE)
        site.page_id = int(site.add_page("Sign In", SIGN_IN_BOX).rsplit("=", 1)[1])
        log = (folder / "php-server.log").open("w")
        # Several workers: a page can be served while WordPress waits on the service,
        # which may itself be calling back (the back-channel logout).
        server = subprocess.Popen(
            [php_binary() or "php", "-d", "opcache.enable=0", "-S", f"127.0.0.1:{port}",
             "-t", str(root)],
            cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"})
        wait_until(lambda: server.poll() is not None or responds(base + "/wp-includes/"
                                                                 "images/blank.gif"),
                   what="PHP's server to start")
        assert server.poll() is None, (folder / "php-server.log").read_text()
        yield site
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)  # the server and its workers
            server.wait(timeout=10)
        _mariadb(f"DROP DATABASE IF EXISTS `{database}`")



# --- reading the plugin's pages, as a browser ----------------------------------------------

BLOCK = re.compile(r'<(div|p) class="auth-service-login[^"]*">.*?</\1>', re.S)
BUTTON = re.compile(r'<a class="asl-button asl-(\w+)" href="([^"]+)">.*?<span>([^<]+)</span>', re.S)
LOCAL = re.compile(r'<p class="asl-local"><a href="([^"]+)">([^<]+)</a>')
LOG_OUT = re.compile(r'<a class="asl-logout" href="([^"]+)">Log out</a>')


def follow(browser: Browser, url: str, data: dict | None = None,
           stop: str | None = None) -> tuple[Page, str]:
    """Open ``url`` and follow its redirects as a browser would; the last page and its URL.

    With ``stop``, the first redirect to a URL starting with it is returned unopened.
    """
    page = browser.open(url, data)
    for _ in range(12):
        if page.status not in (301, 302, 303, 307):
            return page, url
        if stop and urljoin(url, page.location).startswith(stop):
            return page, urljoin(url, page.location)
        url = urljoin(url, page.location)
        page = browser.open(url)
    raise AssertionError(f"too many redirects, the last to {url}")


def block(page: Page) -> str:
    """The shortcode's part of the page ('' when it renders nothing)."""
    found = BLOCK.search(page.text)
    return found.group(0) if found else ""


def buttons(page: Page) -> list[tuple[str, str, str]]:
    """(kind, href, text) of each "continue with" button."""
    return [(kind, html.unescape(href), text) for kind, href, text in BUTTON.findall(block(page))]

if __name__ == "__main__":
    # `make test` says in one line whether the WordPress tests can run on this machine.
    reason = missing()
    if reason is None:
        print("WordPress plugin tests: in a real WordPress (php-cli, MariaDB on 127.0.0.1:3306)")
    else:
        print(f"WordPress plugin tests: skipped, {reason}"
              + (" (under CI they fail instead)" if os.environ.get("CI") else
                 " (`apt-get install wordpress php-cli php-mysql` and MariaDB run them)"))
