<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Monei\Concurrency\Tests\Support\PhpProcess;
use PHPUnit\Framework\TestCase;

/**
 * The files of the Magento modules in php/magento: PHP syntax (php -l),
 * well-formed XML, composer.json, registration, di.xml pointing at classes
 * that exist, and every class loadable against the doubles of the Magento
 * and MONEI interfaces it implements (so a signature mismatch shows here).
 */
final class ModuleFilesTest extends TestCase
{
    private const MODULES = ROOT . '/php/magento';

    /** @return list<string> */
    private static function files(string $ext, string $under = self::MODULES): array
    {
        $out = [];
        $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($under, \FilesystemIterator::SKIP_DOTS));
        foreach ($it as $f) {
            if ($f->isFile() && str_ends_with($f->getFilename(), '.' . $ext)) {
                $out[] = $f->getPathname();
            }
        }
        sort($out);
        return $out;
    }

    public function testEveryPhpFilePassesPhpLint(): void
    {
        $files = self::files('php');
        self::assertGreaterThan(15, count($files));
        foreach ($files as $file) {
            $proc = proc_open([PHP_BINARY, '-n', '-l', $file], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
            self::assertIsResource($proc);
            $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
            self::assertSame(0, proc_close($proc), "php -l $file: $out");
            self::assertStringContainsString('No syntax errors', $out, $file);
            self::assertStringStartsWith("<?php\n\ndeclare(strict_types=1);\n", (string) file_get_contents($file), $file);
        }
    }

    public function testEveryXmlFileIsWellFormed(): void
    {
        $files = self::files('xml');
        self::assertCount(5, $files, implode(', ', $files));
        foreach ($files as $file) {
            $previous = libxml_use_internal_errors(true);
            libxml_clear_errors();
            $doc = new \DOMDocument();
            $ok = $doc->load($file, LIBXML_NONET);
            $errors = array_map(static fn (\LibXMLError $e) => trim($e->message) . " (line {$e->line})", libxml_get_errors());
            libxml_clear_errors();
            libxml_use_internal_errors($previous);
            self::assertTrue($ok, "$file: " . implode('; ', $errors));
            self::assertSame([], $errors, $file);
            self::assertSame('config', $doc->documentElement->nodeName, $file);
            self::assertMatchesRegularExpression('/^urn:magento:(framework|module):/', $doc->documentElement->getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'noNamespaceSchemaLocation'), $file);
        }
    }

    public function testComposerJson(): void
    {
        $main = json_decode((string) file_get_contents(self::MODULES . '/Concurrency/composer.json'), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame('monei/module-concurrency', $main['name']);
        self::assertSame('magento2-module', $main['type']);
        self::assertSame('>=8.1', $main['require']['php']);
        self::assertArrayHasKey('ext-monei_concurrency', $main['require']);
        self::assertArrayNotHasKey('monei/module-monei-payment', $main['require'], 'the main module must not depend on MONEI\'s');
        self::assertSame(['registration.php'], $main['autoload']['files']);
        self::assertSame('', $main['autoload']['psr-4']['Monei\\Concurrency\\Magento\\']);
        self::assertSame('Controller/', $main['autoload']['psr-4']['Monei\\Concurrency\\Controller\\']);

        $monei = json_decode((string) file_get_contents(self::MODULES . '/ConcurrencyMonei/composer.json'), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame('magento2-module', $monei['type']);
        self::assertArrayHasKey('monei/module-concurrency', $monei['require']);
        self::assertArrayHasKey('monei/module-monei-payment', $monei['require']);
        self::assertSame('', $monei['autoload']['psr-4']['Monei\\Concurrency\\Magento\\Monei\\']);
    }

    public function testRegistrationAndModuleXml(): void
    {
        $code = '<?php require ' . var_export(__DIR__ . '/Doubles/autoload.php', true) . ';'
            . 'require ' . var_export(self::MODULES . '/Concurrency/registration.php', true) . ';'
            . 'require ' . var_export(self::MODULES . '/ConcurrencyMonei/registration.php', true) . ';'
            . 'echo json_encode((new Magento\Framework\Component\ComponentRegistrar())->getPaths("module"));';
        [$exit, $out, $err] = PhpProcess::run($code);
        self::assertSame(0, $exit, $err);
        $paths = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(['Monei_Concurrency', 'Monei_ConcurrencyMonei'], array_keys($paths));
        self::assertSame(realpath(self::MODULES . '/Concurrency'), realpath($paths['Monei_Concurrency']));
        self::assertSame(realpath(self::MODULES . '/ConcurrencyMonei'), realpath($paths['Monei_ConcurrencyMonei']));

        $main = simplexml_load_file(self::MODULES . '/Concurrency/etc/module.xml');
        self::assertSame('Monei_Concurrency', (string) $main->module['name']);
        self::assertSame([], $main->xpath('//sequence/module[@name="Monei_MoneiPayment"]'));
        $monei = simplexml_load_file(self::MODULES . '/ConcurrencyMonei/etc/module.xml');
        self::assertSame('Monei_ConcurrencyMonei', (string) $monei->module['name']);
        $sequence = array_map('strval', $monei->xpath('//sequence/module/@name'));
        self::assertContains('Monei_MoneiPayment', $sequence);
        self::assertContains('Monei_Concurrency', $sequence);

        foreach (self::files('php', self::MODULES . '/Concurrency') as $file) {
            self::assertStringNotContainsString('MoneiPayment', (string) file_get_contents($file), "$file must not use MONEI's module");
        }
    }

    public function testDiXmlWiring(): void
    {
        $di = simplexml_load_file(self::MODULES . '/Concurrency/etc/di.xml');
        $prefs = [];
        foreach ($di->preference as $p) {
            $prefs[(string) $p['for']] = (string) $p['type'];
        }
        self::assertSame('Monei\Concurrency\Magento\Lock\RedisLockManager', $prefs['Magento\Framework\Lock\LockManagerInterface']);
        $plugins = $di->xpath('//type[@name="Magento\Sales\Model\Order\Payment"]/plugin');
        self::assertCount(1, $plugins);
        self::assertSame('Monei\Concurrency\Magento\Plugin\CaptureGuard', (string) $plugins[0]['type']);
        $commands = array_map('strval', $di->xpath('//type[@name="Magento\Framework\Console\CommandList"]/arguments/argument[@name="commands"]/item'));
        self::assertSame([
            'Monei\Concurrency\Magento\Console\Command\LocksListCommand',
            'Monei\Concurrency\Magento\Console\Command\LocksUnlockCommand',
        ], $commands);

        $monei = simplexml_load_file(self::MODULES . '/ConcurrencyMonei/etc/di.xml');
        self::assertSame('Monei\MoneiPayment\Api\LockManagerInterface', (string) $monei->preference['for']);
        self::assertSame('Monei\Concurrency\Magento\Monei\LockManager', (string) $monei->preference['type']);

        $routes = simplexml_load_file(self::MODULES . '/Concurrency/etc/frontend/routes.xml');
        self::assertSame('monei_concurrency', (string) $routes->router->route['frontName']);
        self::assertSame('Monei_Concurrency', (string) $routes->router->route->module['name']);
    }

    /**
     * Loads every class of both modules in a separate PHP process against the
     * doubles (a signature that does not match Magento's or MONEI's interface
     * is a fatal error there, not here), and checks the di.xml references.
     */
    public function testEveryClassLoadsAndDiReferencesResolve(): void
    {
        $code = <<<'PHP'
            <?php
            require $argv[1];
            $root = $argv[2];
            $out = ['classes' => [], 'di' => []];
            $maps = [
                'Monei\\Concurrency\\Magento\\Monei\\' => "$root/ConcurrencyMonei/",
                'Monei\\Concurrency\\Controller\\' => "$root/Concurrency/Controller/",
                'Monei\\Concurrency\\Magento\\' => "$root/Concurrency/",
            ];
            $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS));
            foreach ($it as $f) {
                $path = $f->getPathname();
                if (!str_ends_with($path, '.php') || basename($path) === 'registration.php') continue;
                foreach ($maps as $ns => $dir) {
                    if (str_starts_with($path, $dir)) {
                        $class = $ns . str_replace('/', '\\', substr($path, strlen($dir), -4));
                        $out['classes'][$class] = class_exists($class) || interface_exists($class);
                        break;
                    }
                }
            }
            foreach (["$root/Concurrency/etc/di.xml", "$root/ConcurrencyMonei/etc/di.xml"] as $file) {
                $xml = simplexml_load_file($file);
                foreach ($xml->xpath('//preference/@for | //preference/@type | //type/@name | //plugin/@type | //item[@xsi:type="object"]') as $name) {
                    $name = trim((string) $name);
                    $out['di'][$name] = class_exists($name) || interface_exists($name);
                }
            }
            $m = new ReflectionMethod('Monei\Concurrency\Magento\Plugin\CaptureGuard', 'aroundCapture');
            $out['plugin'] = method_exists('Magento\Sales\Model\Order\Payment', 'capture') && $m->getNumberOfParameters() === 3;
            $out['controller'] = array_values(class_implements('Monei\Concurrency\Controller\Webhook\Index'));
            sort($out['controller']);
            echo json_encode($out);
            PHP;
        [$exit, $out, $err] = PhpProcess::run($code, [__DIR__ . '/Doubles/autoload.php', self::MODULES]);
        self::assertSame(0, $exit, $err . $out);
        $r = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertGreaterThan(15, count($r['classes']));
        self::assertSame([], array_keys(array_filter($r['classes'], static fn ($ok) => !$ok)), 'files whose PSR-4 class does not load');
        self::assertGreaterThan(8, count($r['di']));
        self::assertSame([], array_keys(array_filter($r['di'], static fn ($ok) => !$ok)), 'di.xml names without a class');
        self::assertTrue($r['plugin']);
        // Magento's router looks for Monei\Concurrency\Controller\Webhook\Index for module Monei_Concurrency.
        self::assertSame([
            'Magento\Framework\App\ActionInterface',
            'Magento\Framework\App\Action\HttpPostActionInterface',
            'Magento\Framework\App\CsrfAwareActionInterface',
        ], $r['controller']);
    }
}
