<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use PHPUnit\Framework\TestCase;

/**
 * composer.json (PIE metadata), package.xml (PECL) and the Debian ini agree
 * with the extension, Cargo.toml and the repository's files.
 */
final class OpsPackagingTest extends TestCase
{
    private static function root(): string
    {
        return dirname(__DIR__, 2);
    }

    public function testComposerJsonDescribesThisExtensionForPie(): void
    {
        $c = json_decode((string) file_get_contents(self::root() . '/composer.json'), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame('php-ext', $c['type']);
        self::assertMatchesRegularExpression('~^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$~', $c['name'], 'Composer package name');
        self::assertSame('monei_concurrency', $c['php-ext']['extension-name']);
        self::assertTrue(extension_loaded($c['php-ext']['extension-name']), 'the name PIE enables is the name PHP loads');
        self::assertMatchesRegularExpression('/^[A-Za-z][a-zA-Z0-9_]*$/', $c['php-ext']['extension-name']);
        self::assertSame('>=8.1', $c['require']['php']);
        self::assertFalse($c['php-ext']['support-zts'], 'built and tested NTS only');
        self::assertTrue($c['php-ext']['support-nts']);
        self::assertSame(['linux'], $c['php-ext']['os-families']);
        self::assertSame(['pre-packaged-binary', 'composer-default'], $c['php-ext']['download-url-method'],
            'a binary where one matches, else a source build (PIE >= 1.4)');
        preg_match('/^; priority=(\d+)$/m', (string) file_get_contents(self::root() . '/packaging/debian/monei_concurrency.ini'), $p);
        self::assertSame((int) $p[1], $c['php-ext']['priority'], 'same priority as the Debian ini');

        preg_match('/^license = "([^"]+)"/m', (string) file_get_contents(self::root() . '/Cargo.toml'), $m);
        self::assertSame($m[1], $c['license'], 'same license as Cargo.toml');
        foreach (array_keys($c['php-ext']) as $key) {
            self::assertContains($key, ['extension-name', 'priority', 'support-zts', 'support-nts', 'configure-options',
                'build-path', 'download-url-method', 'os-families', 'os-families-exclude'], "known php-ext key $key");
        }
    }

    private static function cargoVersion(): string
    {
        preg_match('/^version = "([^"]+)"/m', (string) file_get_contents(self::root() . '/Cargo.toml'), $m);
        return $m[1];
    }

    /**
     * The sources the phpize build reads and the docs/tests shipped with
     * them, found on disk (no git: the PHP 8.4 chroot runs this too).
     *
     * @return list<string>
     */
    private static function sourceFiles(): array
    {
        $files = [];
        foreach (['src' => '/\.rs$/', 'core/src' => '/\.(rs|lua)$/', 'stubs' => '/\.php$/', 'tests/phpt' => '/\.(phpt|inc)$/'] as $dir => $pattern) {
            $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator(self::root() . '/' . $dir, \FilesystemIterator::SKIP_DOTS));
            foreach ($it as $f) {
                if (preg_match($pattern, $f->getFilename())) {
                    $files[] = substr($f->getPathname(), strlen(self::root()) + 1);
                }
            }
        }
        return $files;
    }

    public function testPackageXmlListsWhatTheBuildReadsAndNothingElse(): void
    {
        $x = simplexml_load_file(self::root() . '/package.xml');
        self::assertNotFalse($x);
        self::assertSame('2.0', (string) $x['version']);
        self::assertSame('monei_concurrency', (string) $x->name);
        self::assertSame('monei_concurrency', (string) $x->providesextension);
        self::assertSame(self::cargoVersion(), (string) $x->version->release, 'package.xml and Cargo.toml versions');
        self::assertSame(self::cargoVersion(), phpversion('monei_concurrency'), 'the extension reports the package version');
        self::assertSame('MIT', (string) $x->license);

        $listed = [];
        foreach ($x->contents->dir->file as $f) {
            $listed[] = (string) $f['name'];
        }
        self::assertSame(count($listed), count(array_unique($listed)), 'no file listed twice');
        foreach ($listed as $f) {
            if ($f === 'vendor.tar.gz') {
                continue; // written by packaging/vendor.sh into the tarball only
            }
            self::assertFileExists(self::root() . '/' . $f, "package.xml lists $f");
        }
        // Everything the phpize build reads, the docs and the phpt suite.
        $needed = array_merge(['config.m4', 'Makefile.frag', 'Cargo.toml', 'Cargo.lock', 'core/Cargo.toml', 'LICENSE',
            'README.md', 'CHANGELOG.md', 'vendor.tar.gz'], self::sourceFiles());
        sort($needed);
        sort($listed);
        self::assertSame($needed, $listed, 'package.xml <contents> is the file list of the PECL tarball');
    }

    public function testDebianIniDocumentsEverySettingWithItsDefaultCommentedOut(): void
    {
        // The defaults as the extension itself reports them, in a php without any ini.
        $ext = null;
        foreach (glob(getenv('PHP_INI_SCAN_DIR') . '/*.ini') ?: [] as $ini) {
            if (preg_match('/^extension=(\/.*monei_concurrency.*\.so)$/m', (string) file_get_contents($ini), $m)) {
                $ext = $m[1];
            }
        }
        self::assertNotNull($ext, 'the test run loads the extension by path (tests/tools/php-ini.sh)');
        $json = shell_exec(escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg($ext)
            . ' -r \'echo json_encode(ini_get_all("monei_concurrency", false));\'');
        $defaults = json_decode((string) $json, true, 512, JSON_THROW_ON_ERROR);
        self::assertNotEmpty($defaults);

        $text = (string) file_get_contents(self::root() . '/packaging/debian/monei_concurrency.ini');
        self::assertMatchesRegularExpression('/^extension=monei_concurrency\.so$/m', $text);
        preg_match_all('/^;(monei_concurrency\.\w+) = (.*)$/m', $text, $m, PREG_SET_ORDER);
        $documented = [];
        foreach ($m as [, $name, $value]) {
            $documented[$name] = trim($value, '"');
        }
        ksort($documented);
        ksort($defaults);
        self::assertSame($defaults, $documented, 'every INI setting, commented out, with its default');
        // Each setting has a comment of its own above it (a pair may share one).
        $lines = explode("\n", $text);
        foreach ($lines as $i => $line) {
            if (str_starts_with($line, ';monei_concurrency.')) {
                $above = $lines[$i - 1] ?? '';
                self::assertTrue(str_starts_with($above, '; ') || str_starts_with($above, ';monei_concurrency.'),
                    "no comment above $line");
            }
        }
        self::assertDoesNotMatchRegularExpression('/^monei_concurrency\./m', $text, 'no setting is active');
    }
}
