<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Command;

use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * Double of Symfony Console's Command (5.4 signatures): name, description,
 * arguments and options from configure(), and run() = bind the input to
 * them, then execute(), which must return an int.
 */
class Command
{
    public const SUCCESS = 0;
    public const FAILURE = 1;
    public const INVALID = 2;

    private ?string $name = null;
    private string $description = '';
    private string $help = '';
    /** @var array<string, InputArgument> */
    private array $arguments = [];
    /** @var array<string, InputOption> */
    private array $options = [];

    public function __construct(?string $name = null)
    {
        if ($name !== null) {
            $this->setName($name);
        }
        $this->configure();
    }

    protected function configure()
    {
    }

    protected function execute(InputInterface $input, OutputInterface $output)
    {
        throw new \LogicException('You must override the execute() method in the concrete command class.');
    }

    public function run(InputInterface $input, OutputInterface $output)
    {
        if ($input instanceof ArrayInput) {
            $input->bindTo($this->arguments, $this->options);
        }
        $code = $this->execute($input, $output);
        if (!is_int($code)) {
            throw new \TypeError(sprintf('Return value of "%s::execute()" must be of the type int, "%s" returned.', static::class, get_debug_type($code)));
        }
        return $code;
    }

    public function addArgument(string $name, ?int $mode = null, string $description = '', $default = null)
    {
        $this->arguments[$name] = new InputArgument($name, $mode, $description, $default);
        return $this;
    }

    public function addOption(string $name, $shortcut = null, ?int $mode = null, string $description = '', $default = null)
    {
        $this->options[$name] = new InputOption($name, $shortcut, $mode, $description, $default);
        return $this;
    }

    public function setName(string $name)
    {
        $this->name = $name;
        return $this;
    }

    public function getName()
    {
        return $this->name;
    }

    public function setDescription(string $description)
    {
        $this->description = $description;
        return $this;
    }

    public function getDescription()
    {
        return $this->description;
    }

    public function setHelp(string $help)
    {
        $this->help = $help;
        return $this;
    }

    public function getHelp()
    {
        return $this->help;
    }
}
