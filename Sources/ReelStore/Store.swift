import GRDB
import ReelCore
