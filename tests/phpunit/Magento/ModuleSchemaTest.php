<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use PHPUnit\Framework\TestCase;

/**
 * Every XML file of the modules validated against Magento's own XSD (the
 * one its xsi:noNamespaceSchemaLocation names), as Magento validates them
 * at setup:upgrade / di:compile. The XSDs are data files outside the
 * repository, in ../shared/magento-xsd (see its README); Magento names them
 * by URN, mapped here to that folder:
 *   urn:magento:framework:<path>          -> framework/<path>
 *   urn:magento:module:Magento_<X>:<path> -> module/Magento_<X>/<path>
 */
final class ModuleSchemaTest extends TestCase
{
    private const XSD_DIR = ROOT . '/../shared/magento-xsd';

    private static function xsdDir(): string
    {
        $dir = realpath(self::XSD_DIR);
        if ($dir === false || !is_file($dir . '/framework/Module/etc/module.xsd')) {
            self::markTestSkipped('Magento\'s XSDs are not there: expected them in ' . self::XSD_DIR . ' (../shared/magento-xsd next to the repository); the module XML was not validated');
        }
        return $dir;
    }

    private static function path(string $urn, string $dir): ?string
    {
        if (preg_match('#^urn:magento:framework:(.+)$#', $urn, $m)) {
            return "$dir/framework/{$m[1]}";
        }
        if (preg_match('#^urn:magento:module:(Magento_\w+):(.+)$#', $urn, $m)) {
            return "$dir/module/{$m[1]}/{$m[2]}";
        }
        return null;
    }

    /** @return array<string, array{string}> */
    public static function xmlFiles(): array
    {
        $out = [];
        $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator(ROOT . '/php/magento', \FilesystemIterator::SKIP_DOTS));
        foreach ($it as $f) {
            if (str_ends_with($f->getFilename(), '.xml')) {
                $out[substr($f->getPathname(), strlen(ROOT . '/php/magento/'))] = [$f->getPathname()];
            }
        }
        ksort($out);
        return $out;
    }

    public function testEveryModuleXmlFileIsCovered(): void
    {
        self::assertSame([
            'Concurrency/etc/crontab.xml', 'Concurrency/etc/db_schema.xml', 'Concurrency/etc/di.xml', 'Concurrency/etc/frontend/routes.xml',
            'Concurrency/etc/module.xml', 'ConcurrencyMonei/etc/di.xml', 'ConcurrencyMonei/etc/module.xml',
        ], array_keys(self::xmlFiles()));
    }

    /**
     * @dataProvider xmlFiles
     */
    #[\PHPUnit\Framework\Attributes\DataProvider('xmlFiles')]
    public function testValidAgainstMagentosSchema(string $file): void
    {
        $dir = self::xsdDir();
        $doc = new \DOMDocument();
        self::assertTrue($doc->load($file, LIBXML_NONET));
        $urn = $doc->documentElement->getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'noNamespaceSchemaLocation');
        $xsd = self::path($urn, $dir);
        self::assertNotNull($xsd, "$file: unknown schema $urn");
        self::assertFileExists($xsd);

        $previous = libxml_use_internal_errors(true);
        libxml_clear_errors();
        // The schemas include each other by URN.
        libxml_set_external_entity_loader(static function (?string $public, string $system, array $context) use ($dir) {
            $path = self::path($system, $dir) ?? $system;
            return is_file($path) ? $path : null;
        });
        try {
            $valid = $doc->schemaValidate($xsd);
            $errors = array_map(static fn (\LibXMLError $e) => trim($e->message) . " (line {$e->line})", libxml_get_errors());
        } finally {
            libxml_set_external_entity_loader(null);
            libxml_clear_errors();
            libxml_use_internal_errors($previous);
        }
        self::assertSame([], $errors, $file);
        self::assertTrue($valid, $file);
    }

    public function testAnInvalidFileIsRejected(): void
    {
        // The control: the validation does reject what Magento would.
        $dir = self::xsdDir();
        $doc = new \DOMDocument();
        $doc->loadXML('<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><module name="Monei_Concurrency"><sequence><modul name="x"/></sequence></module></config>');
        $previous = libxml_use_internal_errors(true);
        try {
            self::assertFalse($doc->schemaValidate("$dir/framework/Module/etc/module.xsd"));
        } finally {
            libxml_clear_errors();
            libxml_use_internal_errors($previous);
        }
    }
}
