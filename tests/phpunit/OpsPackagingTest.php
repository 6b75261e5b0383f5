<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use PHPUnit\Framework\TestCase;

/**
 * composer.json (PIE metadata) agrees with the extension and Cargo.toml.
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

        preg_match('/^license = "([^"]+)"/m', (string) file_get_contents(self::root() . '/Cargo.toml'), $m);
        self::assertSame($m[1], $c['license'], 'same license as Cargo.toml');
        foreach (array_keys($c['php-ext']) as $key) {
            self::assertContains($key, ['extension-name', 'priority', 'support-zts', 'support-nts', 'configure-options',
                'build-path', 'download-url-method', 'os-families', 'os-families-exclude'], "known php-ext key $key");
        }
    }
}
